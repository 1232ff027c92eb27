"""Process memory: RSS, VMS, USS, peak RSS (VmHWM) and its reset, open fds, threads.

On Linux the cheap path reads ``/proc/<pid>/statm`` through a file descriptor kept
open and ``os.pread`` (about 1 µs); psutil serves other platforms and the costly
readings (USS walks every mapping: ~10 ms per GiB, so it is read on demand only).
"""

from __future__ import annotations

import os
import resource
import sys
import threading

import psutil

from memwatch.probes.base import Reading, unavailable
from memwatch.probes.kept import KeptFile

__all__ = [
    "PAGE_SIZE",
    "StatmReader",
    "open_fds",
    "peak_rss",
    "reset_peak_rss",
    "rss",
    "thread_count",
    "uss",
    "vms",
]

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_LINUX = sys.platform.startswith("linux")


class StatmReader:
    """Reads RSS and VMS of one process from ``/proc/<pid>/statm`` with a kept-open fd.

    Falls back to psutil where /proc is missing. ``read_rss()`` raises
    ``ProcessLookupError`` once the process is gone.
    """

    def __init__(self, pid: int | None = None) -> None:
        self.pid = os.getpid() if pid is None else pid
        self._file: KeptFile | None = None
        self._proc: psutil.Process | None = None
        self.source = "psutil"
        if _LINUX:
            kept = KeptFile(f"/proc/{self.pid}/statm", 128)
            if kept.available:
                self._file, self.source = kept, "/proc/statm"
        if self._file is None:
            try:
                self._proc = psutil.Process(self.pid)
            except psutil.NoSuchProcess:
                raise ProcessLookupError(self.pid) from None

    def _fields(self) -> list[bytes]:
        assert self._file is not None
        data = self._file.read()
        if not data:  # unreadable or empty: the process is gone
            raise ProcessLookupError(self.pid)
        return data.split()

    def read_rss(self) -> int:
        if self._file is not None:
            return int(self._fields()[1]) * PAGE_SIZE
        assert self._proc is not None
        try:
            return int(self._proc.memory_info().rss)
        except psutil.NoSuchProcess:
            raise ProcessLookupError(self.pid) from None

    def read_vms(self) -> int:
        if self._file is not None:
            return int(self._fields()[0]) * PAGE_SIZE
        assert self._proc is not None
        try:
            return int(self._proc.memory_info().vms)
        except psutil.NoSuchProcess:
            raise ProcessLookupError(self.pid) from None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


_self_reader: StatmReader | None = None
_self_lock = threading.Lock()


def _reader() -> StatmReader:
    global _self_reader
    pid = os.getpid()
    reader = _self_reader
    if reader is None or reader.pid != pid:  # first use, or after fork
        with _self_lock:
            if _self_reader is None or _self_reader.pid != pid:
                _self_reader = StatmReader(pid)
            reader = _self_reader
    return reader


def rss() -> int:
    """Resident set size of this process in bytes (the cheap path)."""
    return _reader().read_rss()


def vms() -> int:
    """Virtual memory size of this process in bytes."""
    return _reader().read_vms()


def uss(pid: int | None = None) -> Reading:
    """Unique set size: memory freed if the process ended. Costly (~10 ms per GiB)."""
    try:
        info = psutil.Process(pid).memory_full_info()
    except (psutil.AccessDenied, psutil.NoSuchProcess) as exc:
        return unavailable("psutil.memory_full_info", str(exc) or type(exc).__name__)
    value = getattr(info, "uss", None)
    if value is None:
        return unavailable("psutil.memory_full_info", "USS is not reported on this platform")
    return Reading(float(value), "bytes", "psutil.memory_full_info")


def _status_field(pid: int | str, key: bytes) -> int | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def peak_rss(pid: int | None = None) -> Reading:
    """Peak RSS since start or the last :func:`reset_peak_rss`: VmHWM, else ru_maxrss."""
    if _LINUX:
        value = _status_field("self" if pid is None else pid, b"VmHWM:")
        if value is not None:
            return Reading(float(value), "bytes", "VmHWM")
    if pid is None or pid == os.getpid():
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # Linux reports KiB, macOS bytes.
        scale = 1 if sys.platform == "darwin" else 1024
        return Reading(float(maxrss * scale), "bytes", "ru_maxrss", "" if not _LINUX else "VmHWM unreadable")
    return unavailable("VmHWM", "peak RSS of another process needs /proc")


def reset_peak_rss() -> Reading:
    """Reset VmHWM to the current RSS (Linux: write "5" to /proc/self/clear_refs).

    Returns the reading after the reset, or "unavailable" with the reason when the
    kernel refuses (then the peak must come from a sampler).
    """
    if not _LINUX:
        return unavailable("clear_refs", "resetting the peak needs Linux /proc/self/clear_refs")
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError as exc:
        return unavailable("clear_refs", f"write refused: {exc.strerror or exc}")
    return peak_rss()


def open_fds(pid: int | None = None) -> int:
    """Number of open file descriptors."""
    if _LINUX:
        try:
            return len(os.listdir(f"/proc/{'self' if pid is None else pid}/fd"))
        except OSError:
            pass
    proc = psutil.Process(pid)
    num = getattr(proc, "num_fds", None) or getattr(proc, "num_handles", None)
    return int(num()) if num is not None else 0


def thread_count(pid: int | None = None) -> int:
    """Number of OS threads of the process."""
    if pid is None:
        return threading.active_count() if not _LINUX else _linux_threads("self")
    return _linux_threads(pid) if _LINUX else psutil.Process(pid).num_threads()


def _linux_threads(pid: int | str) -> int:
    value = _status_field(pid, b"Threads:")
    if value is None:
        return psutil.Process(None if pid == "self" else int(pid)).num_threads()
    return value // 1024
