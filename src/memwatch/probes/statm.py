"""This process's ``/proc/self/statm`` through one kept-open descriptor: RSS in about 1 µs.

Standard library only, so the pytest plugin's per-test path (:mod:`.hwm`) loads nothing
else. The descriptor is opened on first use and dropped by a fork handler (the child
opens its own): no ``getpid`` per read. Where ``/proc`` is missing the readings come
from :class:`memwatch.probes.process.StatmReader` (psutil).
"""

from __future__ import annotations

import os
import threading
from typing import Any

__all__ = ["PAGE_SIZE", "data_size", "rss", "vms"]

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_fd = -1  # /proc/self/statm, kept open; -1: not open yet
_fallback: Any = None  # a process.StatmReader where /proc is missing
_lock = threading.Lock()


def _after_fork() -> None:
    global _fd, _fallback
    if _fd >= 0:
        os.close(_fd)  # the parent's descriptor, inherited
    _fd, _fallback = -1, None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def field(index: int) -> int:
    """Field ``index`` of this process's statm (0 size, 1 resident, 5 data), in bytes."""
    global _fd, _fallback
    if _fd < 0:
        with _lock:
            if _fd < 0 and _fallback is None:
                try:
                    _fd = os.open("/proc/self/statm", os.O_RDONLY)
                except OSError:
                    from memwatch.probes.process import StatmReader

                    _fallback = StatmReader(os.getpid())
    if _fd >= 0:
        return int(os.pread(_fd, 128, 0).split()[index]) * PAGE_SIZE
    rss_now, vms_now = _fallback.read()
    return int(vms_now if index == 0 else rss_now)  # RSS stands in for the data size off Linux


def rss() -> int:
    """Resident set size of this process in bytes."""
    if _fd >= 0:  # inlined: the pytest plugin reads this twice per test
        return int(os.pread(_fd, 128, 0).split()[1]) * PAGE_SIZE
    return field(1)


def vms() -> int:
    """Virtual memory size of this process in bytes."""
    return field(0)


def data_size() -> int:
    """The data segment (statm field 6: what ``RLIMIT_DATA`` counts) in bytes; RSS off Linux."""
    return field(5)
