"""Peak RSS of a test body for about 10 µs: VmHWM reset, read back through getrusage.

Writing ``5`` to ``/proc/self/clear_refs`` resets the kernel's RSS high-water mark
(VmHWM) to the current RSS. ``getrusage().ru_maxrss`` reports
``max(signal.maxrss, mm.hiwater_rss)``: the reset lowers the second, but the first
keeps a mark the kernel copied there (at ``exec``, from the image the process
replaced). So right after the reset ru_maxrss is compared with the RSS: when it is
no higher, it follows VmHWM for the rest of the body and costs 1 µs; otherwise
VmHWM is read from ``/proc/self/status`` (~20 µs, kernel side). Both descriptors
stay open (reopened after a fork).
"""

from __future__ import annotations

import os
import resource
import sys

__all__ = ["HighWaterMark", "current_rss"]

_SLACK = 256 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_statm: tuple[int, int] | None = None  # (pid, fd of /proc/self/statm)


def current_rss() -> int:
    """RSS of this process in bytes: ``/proc/self/statm`` through a kept-open descriptor
    (about 1 µs, and no psutil import on the way); the probes' reader elsewhere."""
    global _statm
    pid = os.getpid()
    if _statm is None or _statm[0] != pid:
        try:
            _statm = (pid, os.open("/proc/self/statm", os.O_RDONLY))
        except OSError:
            from memwatch.probes.process import rss

            return rss()
    return int(os.pread(_statm[1], 128, 0).split()[1]) * _PAGE


class HighWaterMark:
    """Reset and read the RSS high-water mark of this process (Linux only; see ``works``)."""

    def __init__(self) -> None:
        self._pid = -1
        self._clear_fd = -1
        self._status_fd = -1
        self.works = sys.platform.startswith("linux") and self._open()
        self._use_rusage = False

    def _open(self) -> bool:
        try:
            self._clear_fd = os.open("/proc/self/clear_refs", os.O_WRONLY)
            self._status_fd = os.open("/proc/self/status", os.O_RDONLY)
            os.write(self._clear_fd, b"5")
        except OSError:
            return False
        self._pid = os.getpid()
        return True

    def reset(self, current_rss: int) -> None:
        """Reset the mark to the current RSS (``current_rss``, bytes, read just before)."""
        if self._pid != os.getpid():
            self.works = self._open()
        os.write(self._clear_fd, b"5")
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self._use_rusage = maxrss <= current_rss + _SLACK

    def peak(self) -> int:
        """The highest RSS since :meth:`reset`, in bytes."""
        if self._use_rusage:
            return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
        data = os.pread(self._status_fd, 8192, 0)
        start = data.find(b"VmHWM:")
        end = data.index(b"\n", start)
        return int(data[start + 6:end].split()[0]) * 1024
