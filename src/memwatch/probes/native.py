"""The native heap as glibc's allocator sees it (``mallinfo2``), and ``malloc_trim``.

tracemalloc and allocated blocks miss memory malloc'd by C code (ctypes, C
extensions, numpy buffers); ``mallinfo2()`` counts it. In-use bytes are
``uordblks`` (small chunks in arenas) plus ``hblkhd`` (large chunks mmap'd one by
one). Reads cost about 0.3 µs. Off glibc, or on glibc older than 2.33, the probe
says "unavailable".
"""

from __future__ import annotations

import ctypes
import sys
from typing import NamedTuple

from memwatch.probes.base import Reading, unavailable

__all__ = ["MallInfo", "mallinfo", "malloc_trim", "native_heap", "native_heap_bytes", "native_reason"]


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


class MallInfo(NamedTuple):
    """The fields of ``struct mallinfo2`` that matter, in bytes (a named tuple: the
    sampling path imports this module, and ``dataclasses`` costs ~1.4 MiB of imports)."""

    arena: int  # bytes in arenas obtained with sbrk/mmap
    in_use_small: int  # uordblks: allocated chunks in arenas
    mmapped: int  # hblkhd: large chunks mmap'd individually
    free: int  # fordblks: free chunks kept in arenas
    releasable: int  # keepcost: top-most releasable space

    @property
    def in_use(self) -> int:
        return self.in_use_small + self.mmapped


def _load() -> tuple[ctypes.CDLL | None, str]:
    if not sys.platform.startswith("linux"):
        return None, f"mallinfo2 needs glibc (platform is {sys.platform})"
    try:
        # the soname first: ctypes.util.find_library runs ldconfig in a subprocess and
        # parses its output (about 1.5 MiB of peak RSS on its own, ~0.2 MiB in a full import)
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        from ctypes.util import find_library  # imports shutil, tempfile, random: only here

        try:
            libc = ctypes.CDLL(find_library("c") or "libc.so.6")
        except OSError as exc:
            return None, f"cannot load libc: {exc}"
    if not hasattr(libc, "mallinfo2"):
        return None, "libc has no mallinfo2 (not glibc, or glibc older than 2.33)"
    libc.mallinfo2.restype = _MallInfo2
    libc.mallinfo2.argtypes = []
    if hasattr(libc, "malloc_trim"):
        libc.malloc_trim.restype = ctypes.c_int
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    return libc, ""


_LIBC, _REASON = _load()


def native_reason() -> str:
    """Empty when the native heap can be read here, else why not."""
    return _REASON


def mallinfo() -> MallInfo | None:
    """The allocator's statistics, or None where mallinfo2 is unavailable."""
    if _LIBC is None:
        return None
    info = _LIBC.mallinfo2()
    return MallInfo(
        arena=info.arena,
        in_use_small=info.uordblks,
        mmapped=info.hblkhd,
        free=info.fordblks,
        releasable=info.keepcost,
    )


def native_heap_bytes() -> int:
    """In-use bytes of the glibc heap; only call when :func:`native_reason` is empty."""
    assert _LIBC is not None
    info = _LIBC.mallinfo2()
    return int(info.uordblks + info.hblkhd)


def native_heap() -> Reading:
    """In-use bytes of the glibc heap (arenas plus mmap'd chunks)."""
    if _LIBC is None:
        return unavailable("mallinfo2", _REASON)
    return Reading(float(native_heap_bytes()), "bytes", "mallinfo2")


def malloc_trim(pad: int = 0) -> bool | None:
    """Ask glibc to return free heap memory to the OS. None where unsupported.

    Returns True when memory was released. Measured: it returns hundreds of MB of
    RSS after a burst of small allocations that ``gc.collect()`` alone leaves mapped.
    """
    if _LIBC is None or not hasattr(_LIBC, "malloc_trim"):
        return None
    return bool(_LIBC.malloc_trim(pad))
