"""Native memory through ctypes: invisible to tracemalloc and to allocated blocks."""

from __future__ import annotations

import ctypes
import ctypes.util

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = [ctypes.c_size_t]
_libc.free.restype = None
_libc.free.argtypes = [ctypes.c_void_p]

_leaked: list[int] = []


def malloc_leak() -> None:
    """malloc(2048) and never free: only the native heap sees it."""
    address = _libc.malloc(2048)
    if address:
        ctypes.memset(address, 1, 64)


def malloc_free() -> None:
    """malloc then free: clean."""
    address = _libc.malloc(2048)
    if address:
        ctypes.memset(address, 1, 64)
        _libc.free(address)
