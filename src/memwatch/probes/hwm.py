"""Peak RSS of a test body for a few microseconds: the kernel's high-water mark, reset per body.

Writing ``5`` to ``/proc/self/clear_refs`` resets the kernel's RSS high-water mark
(VmHWM) to the current RSS. ``getrusage().ru_maxrss`` reports
``max(signal.maxrss, VmHWM)``: the reset lowers the second, but the first keeps a
mark the kernel copied there (at ``exec``, from the image the process replaced, and
when a thread exits). So at each reset ru_maxrss is compared with the RSS:

- no higher: the mark already stands at the current RSS (the usual case between two
  small tests), there is nothing to reset, and ru_maxrss follows VmHWM for the rest
  of the body (one ``getrusage``, under 1 µs);
- higher: ``clear_refs`` is written and ru_maxrss read again; if it is still above
  the RSS (the stale ``signal.maxrss``), the peak is read from ``/proc/self/status``
  instead (about 8 µs).

The RSS is :func:`memwatch.probes.statm.rss` (``/proc/self/statm``, the same kernel
counters as the mark). The descriptors stay open; a fork handler marks them stale, and
the child reopens its own on first use (no ``getpid`` per read). They are raw
descriptors rather than :class:`memwatch.probes.kept.KeptFile`: this is the per-test
path of ``pytest --memwatch``, where one attribute lookup less per read shows.
:func:`memwatch.probes.process.peak_rss` / ``reset_peak_rss`` are the plain
one-off readings of the same mark.
"""

from __future__ import annotations

import os
import resource
import sys

from memwatch.probes.statm import rss as current_rss

__all__ = ["HighWaterMark", "current_rss"]

_SLACK = 256 * 1024
_forks = 0  # forks this process came through: descriptors opened before one are the parent's


def _after_fork() -> None:
    global _forks
    _forks += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


class HighWaterMark:
    """Reset and read the RSS high-water mark of this process (Linux only; see ``works``)."""

    def __init__(self) -> None:
        self._forks = -1
        self._clear_fd = -1
        self._status_fd = -1
        self.works = sys.platform.startswith("linux") and self._open()
        self._use_rusage = False
        #: resets that found the mark at the current RSS already (no write needed)
        self.skipped = 0

    def _open(self) -> bool:
        for fd in (self._clear_fd, self._status_fd):
            if fd >= 0:
                os.close(fd)
        self._clear_fd = self._status_fd = -1
        try:
            self._clear_fd = os.open("/proc/self/clear_refs", os.O_WRONLY)
            self._status_fd = os.open("/proc/self/status", os.O_RDONLY)
            os.write(self._clear_fd, b"5")
        except OSError:
            return False
        self._forks = _forks
        return True

    #: the current RSS in bytes (``/proc/self/statm``)
    rss = staticmethod(current_rss)

    def reset(self, current_rss: int) -> None:
        """Make the mark start at the current RSS (``current_rss``, bytes, read just before)."""
        if self._forks != _forks:
            self.works = self._open()
        if resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 <= current_rss:
            self._use_rusage = True  # the mark is at the current RSS already
            self.skipped += 1
            return
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
        return int(data[start + 6 : end].split()[0]) * 1024
