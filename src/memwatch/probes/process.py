"""Process memory: RSS, VMS, data size, USS, peak RSS (VmHWM) and its reset, open fds, threads.

On Linux the cheap path reads ``/proc/<pid>/statm`` through a file descriptor kept
open and ``os.pread`` (about 1 µs); psutil serves other platforms and the costly
readings (USS walks every mapping: ~10 ms per GiB, so it is read on demand only).
psutil is imported only on those paths, so reading this process's RSS on Linux
loads nothing but the standard library.

This process's own statm is read through :mod:`memwatch.probes.statm` (one kept-open
descriptor, standard library only).
"""

from __future__ import annotations

import os
import resource
import struct
import sys
import threading
from typing import TYPE_CHECKING, Any

from memwatch.probes.base import Reading, unavailable
from memwatch.probes.statm import PAGE_SIZE, data_size, rss, vms

if TYPE_CHECKING:
    import psutil

__all__ = [
    "PAGE_SIZE",
    "STATM_RECORD",
    "STATM_SAMPLER",
    "StatmReader",
    "data_size",
    "open_fds",
    "peak_rss",
    "process_tree",
    "reset_peak_rss",
    "rss",
    "status_bytes",
    "thread_count",
    "uss",
    "vms",
]

_LINUX = sys.platform.startswith("linux")


class StatmReader:
    """Reads RSS and VMS of one process from ``/proc/<pid>/statm`` with a kept-open fd.

    Falls back to psutil where /proc cannot be opened. Raises ``ProcessLookupError``
    when the process does not exist, and from a read once it has exited (a zombie's
    statm reads all zeros: its memory is gone).
    """

    def __init__(self, pid: int | None = None) -> None:
        self.pid = os.getpid() if pid is None else pid
        self._fd = -1
        self._proc: psutil.Process | None = None
        self.source = "psutil"
        if _LINUX:
            try:
                self._fd = os.open(f"/proc/{self.pid}/statm", os.O_RDONLY)
                self.source = "/proc/statm"
            except FileNotFoundError:
                raise ProcessLookupError(self.pid) from None
            except OSError:
                pass
        if self._fd < 0:
            import psutil

            try:
                self._proc = psutil.Process(self.pid)
            except psutil.Error:
                raise ProcessLookupError(self.pid) from None

    def _fields(self) -> list[bytes]:
        try:
            fields = os.pread(self._fd, 128, 0).split()
        except OSError:
            raise ProcessLookupError(self.pid) from None
        if len(fields) < 2 or fields[0] == b"0":  # empty, or a zombie: gone
            raise ProcessLookupError(self.pid)
        return fields

    def _info(self) -> Any:
        import psutil

        assert self._proc is not None
        try:
            return self._proc.memory_info()
        except psutil.Error:
            raise ProcessLookupError(self.pid) from None

    def read(self) -> tuple[int, int]:
        """(rss, vms) in bytes from one read."""
        if self._fd >= 0:
            fields = self._fields()
            return int(fields[1]) * PAGE_SIZE, int(fields[0]) * PAGE_SIZE
        info = self._info()
        return int(info.rss), int(info.vms)

    def read_rss(self) -> int:
        return self.read()[0]

    def read_vms(self) -> int:
        return self.read()[1]

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def process_tree(pid: int) -> set[int]:
    """The pids of every live descendant of ``pid`` (psutil); empty once it is gone."""
    import psutil

    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.Error:
        return set()


def uss(pid: int | None = None) -> Reading:
    """Unique set size: memory freed if the process ended. Costly (~10 ms per GiB)."""
    import psutil

    try:
        info = psutil.Process(pid).memory_full_info()
    except (psutil.AccessDenied, psutil.NoSuchProcess) as exc:
        return unavailable("psutil.memory_full_info", str(exc) or type(exc).__name__)
    value = getattr(info, "uss", None)
    if value is None:
        return unavailable("psutil.memory_full_info", "USS is not reported on this platform")
    return Reading(float(value), "bytes", "psutil.memory_full_info")


def status_bytes(key: str, pid: int | None = None) -> int | None:
    """A ``kB`` line of ``/proc/<pid>/status`` (``"VmData"``, ``"VmHWM"``, ...) in bytes; None where unreadable."""
    return _status_field("self" if pid is None else pid, key.encode() + b":") if _LINUX else None


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
    import psutil

    proc = psutil.Process(pid)
    num = getattr(proc, "num_fds", None) or getattr(proc, "num_handles", None)
    return int(num()) if num is not None else 0


def thread_count(pid: int | None = None) -> int:
    """Number of OS threads of the process."""
    if pid is None:
        return threading.active_count() if not _LINUX else _linux_threads("self")
    if _LINUX:
        return _linux_threads(pid)
    import psutil

    return int(psutil.Process(pid).num_threads())


def _linux_threads(pid: int | str) -> int:
    value = _status_field(pid, b"Threads:")
    if value is None:
        import psutil

        return psutil.Process(None if pid == "self" else int(pid)).num_threads()
    return value // 1024


#: A helper process's script that reads ``/proc/<pid>/statm`` on its own clock (not slowed
#: by the watching interpreter's GIL): ``python -I -S -c STATM_SAMPLER PID INTERVAL PARENT
#: FIRST_DEADLINE``. It writes :data:`STATM_RECORD` records (deadline, time, rss, vms) to
#: stdout; each ``os.write`` is atomic (< PIPE_BUF), so a terminated helper never leaves
#: half a record. It stops when the target or its parent goes away, or on SIGTERM.
STATM_SAMPLER = r"""
import os, struct, sys, time
pid, interval, parent = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
page = os.sysconf("SC_PAGE_SIZE")
fd = os.open("/proc/%d/statm" % pid, os.O_RDONLY)
pack, write, mono, sleep, pread = struct.Struct("<dddd").pack, os.write, time.monotonic, time.sleep, os.pread
deadline = float(sys.argv[4])
while os.getppid() == parent:
    now = mono()
    if now < deadline:
        sleep(deadline - now)
        now = mono()
    if now - deadline >= interval:
        deadline += int((now - deadline) // interval) * interval
    fields = pread(fd, 128, 0).split()
    if len(fields) < 2 or fields[0] == b"0":
        break
    write(1, pack(deadline, now, int(fields[1]) * page, int(fields[0]) * page))
    deadline += interval
"""
STATM_RECORD = struct.Struct("<dddd")


def tree_rss(pid: int) -> tuple[int, int]:
    """(RSS bytes, process count) of ``pid`` and every live descendant (psutil); (0, 0) once gone.

    Pages shared between the processes are counted once per process, as ``ps`` does.
    """
    import psutil

    try:
        root = psutil.Process(pid)
        members = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    total = count = 0
    for member in members:
        try:
            total += int(member.memory_info().rss)
            count += 1
        except psutil.Error:  # ended between the listing and the read
            continue
    return total, count
