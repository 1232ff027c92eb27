"""Sample memory signals in the background into a :class:`~memwatch.model.timeline.Timeline`.

Two modes:

- ``"thread"`` (default): a daemon thread that waits on ``Event.wait`` until each
  deadline and reads the chosen signals of this process (any of
  :data:`memwatch.probes.SIGNALS`, default :data:`memwatch.probes.CHEAP`) or, with
  ``pid=``, the RSS/VMS of another process and its children (summed). While the
  main thread computes, a Python thread waits for the GIL (the switch interval,
  5 ms), so samples run late: each is counted as *late* when it comes more than
  half an interval after its deadline, and deadlines passed over entirely count
  as *missed*.
- ``"process"``: a small helper process reads ``/proc/<pid>/statm`` on its own
  clock (Linux only; ``rss`` and ``vms`` of one process). Use it for intervals
  below about 5 ms; it is not slowed by the GIL.

Memory stays bounded: past ``max_samples`` every second stored sample is dropped
and the timeline's ``downsampled`` factor doubles (later samples are kept at the
coarser step); ``peaks`` still holds the exact maximum of every sample taken.
Times use ``time.monotonic`` (one clock for all processes on Linux).
"""

from __future__ import annotations

import math
import os
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import psutil

from memwatch.errors import ConfigError, UsageError
from memwatch.model.timeline import Phase, Timeline
from memwatch.probes import CHEAP
from memwatch.probes import signal as probe_signal
from memwatch.probes.process import PAGE_SIZE

__all__ = [
    "DEFAULT_MAX_SAMPLES",
    "PhaseBook",
    "ProcessSource",
    "Sampler",
    "SelfSource",
    "Source",
    "TreeSource",
    "validate_signals",
]

DEFAULT_MAX_SAMPLES = 200_000
Mode = Literal["thread", "process"]


class Source:
    """Where samples come from: ``read()`` returns one value per name, in order."""

    names: tuple[str, ...] = ()
    units: dict[str, str]
    unavailable: dict[str, str]

    def read(self) -> list[float]:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the source holds (file descriptors, a helper process)."""


def _unique(names: Sequence[str]) -> list[str]:
    if isinstance(names, str):
        names = [names]
    out: list[str] = []
    for name in names:
        if name not in out:
            out.append(name)
    if not out:
        raise ConfigError("no signals chosen: name at least one probe (see `memwatch probes`)")
    return out


class SelfSource(Source):
    """Signals of this process from :mod:`memwatch.probes`; unavailable ones are left out
    and listed with their reason in ``unavailable``."""

    def __init__(self, signals: Sequence[str] | None) -> None:
        chosen = [probe_signal(name) for name in _unique(CHEAP if signals is None else signals)]
        self.unavailable = {s.name: s.reason for s in chosen if not s.available}
        usable = [s for s in chosen if s.available]
        self.names = tuple(s.name for s in usable)
        self.units = {s.name: s.unit for s in usable}
        self._readers = [s.read for s in usable]

    def read(self) -> list[float]:
        return [float(read()) for read in self._readers]


_OTHER_PROCESS = ("rss", "vms", "processes")


def _check_other(signals: Sequence[str] | None, allowed: tuple[str, ...],
                 default: tuple[str, ...], why: str) -> list[str]:
    names = _unique(default if signals is None else signals)
    for name in names:
        if name not in _OTHER_PROCESS:
            probe_signal(name)  # an unknown name: ConfigError listing the known ones
        if name not in allowed:
            raise ConfigError(f"probe {name!r} cannot be read {why}; use: {', '.join(allowed)}")
    return names


def validate_signals(signals: Sequence[str] | None, *, mode: Mode = "thread",
                     other_process: bool = False) -> tuple[str, ...]:
    """The signal names a sampler would record, or ConfigError naming the bad one.

    Lets a caller check its options before it starts anything (``memwatch run``
    checks them before it launches the command).
    """
    if mode == "process":
        return tuple(_check_other(signals, ("rss", "vms"), ("rss",), "in process mode"))
    if other_process:
        return tuple(_check_other(signals, _OTHER_PROCESS, ("rss", "processes"), "from another process"))
    return tuple(s for s in _unique(CHEAP if signals is None else signals) if probe_signal(s).available)


class _Statm:
    """RSS and VMS of one process in a single read: /proc/<pid>/statm, else psutil."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._fd: int | None = None
        self._proc: psutil.Process | None = None
        try:
            self._fd = os.open(f"/proc/{pid}/statm", os.O_RDONLY)
        except FileNotFoundError:
            raise ProcessLookupError(pid) from None
        except OSError:
            try:
                self._proc = psutil.Process(pid)
            except psutil.Error:
                raise ProcessLookupError(pid) from None

    def read(self) -> tuple[int, int]:
        """(rss, vms) in bytes; ProcessLookupError once the process is gone or a zombie."""
        if self._fd is not None:
            try:
                fields = os.pread(self._fd, 128, 0).split()
            except OSError:
                raise ProcessLookupError(self.pid) from None
            if len(fields) < 2 or fields[0] == b"0":
                raise ProcessLookupError(self.pid)
            return int(fields[1]) * PAGE_SIZE, int(fields[0]) * PAGE_SIZE
        assert self._proc is not None
        try:
            info = self._proc.memory_info()
        except psutil.Error:
            raise ProcessLookupError(self.pid) from None
        return int(info.rss), int(info.vms)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class TreeSource(Source):
    """RSS/VMS of another process summed with its descendants (found with psutil every
    ``refresh`` seconds; children that appear and exit between two scans are missed).
    ``processes`` counts the tree. Raises ProcessLookupError once the root has exited."""

    def __init__(self, pid: int, signals: Sequence[str] | None, *, include_children: bool = True,
                 refresh: float = 0.25) -> None:
        self.names = tuple(_check_other(signals, _OTHER_PROCESS, ("rss", "processes"),
                                        "from another process"))
        self.units = {name: "count" if name == "processes" else "bytes" for name in self.names}
        self.unavailable = {}
        self.pid = pid
        self.include_children = include_children
        self.refresh = refresh
        self._root = _Statm(pid)
        self._members: dict[int, _Statm] = {}
        self._next_scan = 0.0

    def _scan(self) -> None:
        try:
            found = {p.pid for p in psutil.Process(self.pid).children(recursive=True)}
        except psutil.Error:
            found = set()
        for pid in list(self._members):
            if pid not in found:
                self._members.pop(pid).close()
        for pid in found - set(self._members):
            try:
                self._members[pid] = _Statm(pid)
            except ProcessLookupError:
                pass

    def read(self) -> list[float]:
        rss, vms = self._root.read()
        count = 1
        if self.include_children:
            now = time.monotonic()
            if now >= self._next_scan:
                self._scan()
                self._next_scan = now + self.refresh
            for pid, member in list(self._members.items()):
                try:
                    child_rss, child_vms = member.read()
                except ProcessLookupError:
                    self._members.pop(pid).close()
                    continue
                rss += child_rss
                vms += child_vms
                count += 1
        values = {"rss": float(rss), "vms": float(vms), "processes": float(count)}
        return [values[name] for name in self.names]

    def close(self) -> None:
        self._root.close()
        for member in self._members.values():
            member.close()
        self._members.clear()


# The helper process: reads statm on its own clock and writes 32-byte records
# (deadline, time, rss, vms) to stdout; each os.write is atomic (< PIPE_BUF), so a
# terminated helper never leaves half a record. It stops when the target or its
# parent goes away, or on SIGTERM.
_HELPER = r"""
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


class ProcessSource(Source):
    """``rss``/``vms`` of one process, sampled by a helper process (Linux /proc only)."""

    def __init__(self, pid: int, interval: float, signals: Sequence[str] | None) -> None:
        if not sys.platform.startswith("linux"):
            raise ConfigError("process mode reads /proc/<pid>/statm and needs Linux; use mode='thread'")
        self.names = tuple(_check_other(signals, ("rss", "vms"), ("rss",), "in process mode"))
        self.units = dict.fromkeys(self.names, "bytes")
        self.unavailable = {}
        self.pid = pid
        self.interval = interval
        self._statm = _Statm(pid)
        self._proc: subprocess.Popen[bytes] | None = None
        self.thread: threading.Thread | None = None
        self.late = 0
        self.missed = 0
        self.max_lateness = 0.0
        self.exited = False

    def read(self) -> list[float]:
        rss, vms = self._statm.read()
        values = {"rss": float(rss), "vms": float(vms)}
        return [values[name] for name in self.names]

    def start(self, t0: float, add: Callable[[float, Sequence[float]], None]) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _HELPER, str(self.pid), repr(self.interval),
             str(os.getpid()), repr(t0 + self.interval)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.thread = threading.Thread(target=self._drain, args=(add,), name="memwatch-sampler-reader",
                                       daemon=True)
        self.thread.start()

    def _drain(self, add: Callable[[float, Sequence[float]], None]) -> None:
        assert self._proc is not None
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        pending = b""
        previous: float | None = None
        half = self.interval / 2
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            pending += chunk
            usable = len(pending) - len(pending) % _RECORD.size
            for deadline, now, rss, vms in _RECORD.iter_unpack(pending[:usable]):
                if previous is not None:
                    self.missed += max(round((deadline - previous) / self.interval) - 1, 0)
                previous = deadline
                lateness = now - deadline
                self.late += lateness > half
                self.max_lateness = max(self.max_lateness, lateness)
                values = {"rss": rss, "vms": vms}
                add(now, [values[name] for name in self.names])
            pending = pending[usable:]
        self.exited = True

    def stop(self) -> tuple[int, int, float]:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
            self._proc.wait()
            if self.thread is not None:
                self.thread.join()
            assert self._proc.stdout is not None
            self._proc.stdout.close()
        return self.late, self.missed, self.max_lateness

    def close(self) -> None:
        self._statm.close()


_RECORD = struct.Struct("<dddd")


class PhaseBook:
    """Named, possibly nested and repeated intervals; times in seconds on one clock."""

    def __init__(self) -> None:
        self._phases: list[tuple[str, float, float | None, int]] = []  # name, start, end, depth
        self._open: list[int] = []

    def start(self, name: str, at: float) -> None:
        if not isinstance(name, str) or not name.strip():
            raise UsageError(f"a phase needs a non-empty name, got {name!r}")
        self._open.append(len(self._phases))
        self._phases.append((name, at, None, len(self._open) - 1))

    def end(self, name: str | None, at: float) -> None:
        """Close the most recently started open phase called ``name`` (any, when None)."""
        for pos in range(len(self._open) - 1, -1, -1):
            index = self._open[pos]
            entry = self._phases[index]
            if name is None or entry[0] == name:
                self._phases[index] = (entry[0], entry[1], max(at, entry[1]), entry[3])
                del self._open[pos]
                return
        raise UsageError(f"phase {name!r} is not open (open phases: {self.open_names or 'none'})")

    def close_all(self, at: float) -> None:
        while self._open:
            self.end(None, at)

    @property
    def open_names(self) -> list[str]:
        return [self._phases[i][0] for i in self._open]

    def snapshot(self, origin: float) -> tuple[Phase, ...]:
        return tuple(Phase(name=name, start=start - origin, end=None if end is None else end - origin,
                           depth=depth) for name, start, end, depth in self._phases)


class _Buffer:
    """Growing arrays up to ``cap`` samples; past it, keep every second one."""

    def __init__(self, width: int, cap: int) -> None:
        self.cap = cap
        self.size = min(cap, 1024)
        self.t = np.empty(self.size)
        self.v = np.empty((width, self.size))
        self.n = 0
        self.seen = 0
        self.factor = 1
        self.peaks = np.full(width, -np.inf)

    def add(self, t: float, values: Sequence[float]) -> None:
        for i, value in enumerate(values):
            self.peaks[i] = max(self.peaks[i], value)
        seen = self.seen
        self.seen += 1
        if seen % self.factor:
            return
        if self.n == self.size:
            if self.size < self.cap:
                self._grow()
            else:
                self._halve()
                if seen % self.factor:
                    return
        self.t[self.n] = t
        self.v[:, self.n] = values
        self.n += 1

    def _grow(self) -> None:
        self.size = min(self.cap, self.size * 4)
        self.t = np.resize(self.t, self.size)
        grown = np.empty((self.v.shape[0], self.size))
        grown[:, : self.n] = self.v[:, : self.n]
        self.v = grown

    def _halve(self) -> None:
        keep = (self.n + 1) // 2
        self.t[:keep] = self.t[: self.n : 2]
        self.v[:, :keep] = self.v[:, : self.n : 2]
        self.n = keep
        self.factor *= 2


class Sampler:
    """Samples signals at a fixed interval in the background; see the module docstring.

    ``signals`` are probe names (``memwatch probes`` lists them); with ``pid`` the
    choice is ``rss``, ``vms`` and ``processes`` (the size of the process tree,
    thread mode only). Use as a context manager or call :meth:`start`/:meth:`stop`.
    ``source`` replaces the readers with any :class:`Source` (thread mode).
    """

    def __init__(self, interval: float = 0.01, signals: Sequence[str] | None = None, *,
                 mode: Mode = "thread", pid: int | None = None, include_children: bool = True,
                 max_samples: int = DEFAULT_MAX_SAMPLES, source: Source | None = None) -> None:
        if isinstance(interval, bool) or not isinstance(interval, int | float) \
                or not math.isfinite(interval) or interval <= 0:
            raise ConfigError(f"invalid sampling interval {interval!r}: must be a positive number of seconds")
        if mode not in ("thread", "process"):
            raise ConfigError(f"invalid sampler mode {mode!r}: use 'thread' or 'process'")
        if max_samples < 16:
            raise ConfigError(f"max_samples must be at least 16, got {max_samples}")
        self.interval = float(interval)
        self.mode: Mode = mode
        self.pid = pid
        self.max_samples = max_samples + (max_samples % 2)
        self.source: Source
        if source is not None:  # a ready source (tests, or a caller with its own readings)
            self.source = source
        elif mode == "process":
            self.source = ProcessSource(os.getpid() if pid is None else pid, self.interval, signals)
        elif pid is not None and pid != os.getpid():
            self.source = TreeSource(pid, signals, include_children=include_children)
        else:
            self.source = SelfSource(signals)
        self.names = self.source.names
        self.phases = PhaseBook()
        self._buffer = _Buffer(len(self.names), self.max_samples)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0
        self._t_end: float | None = None
        self._started_at = 0.0
        self.late = 0
        self.missed = 0
        self.max_lateness = 0.0
        self.target_exited = False

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> Sampler:
        if self._thread is not None:
            raise UsageError("this sampler was already started")
        self._t0 = time.monotonic()
        self._started_at = time.time()
        self.sample()
        if isinstance(self.source, ProcessSource):
            self.source.start(self._t0, self._add)
            self._thread = self.source.thread
        else:
            self._thread = threading.Thread(target=self._loop, name="memwatch-sampler", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> Timeline:
        """Stop sampling (promptly: the thread wakes on an event), take a last sample."""
        if self._thread is None:
            raise UsageError("this sampler was never started")
        if self._t_end is None:
            self._stop.set()
            if isinstance(self.source, ProcessSource):
                stats = self.source.stop()
                self.late, self.missed, self.max_lateness = stats
            elif self._thread is not threading.current_thread():
                self._thread.join()
            if not self.target_exited:
                self.sample()
            with self._lock:
                self._t_end = self._buffer.t[self._buffer.n - 1] if self._buffer.n else self._t0
                self.phases.close_all(time.monotonic())
            self.source.close()
        return self.timeline()

    def __enter__(self) -> Sampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._t_end is None and not self._stop.is_set()

    # -- samples -----------------------------------------------------------
    def read(self) -> dict[str, float]:
        """Read every signal now without recording it."""
        return dict(zip(self.names, self.source.read(), strict=True))

    def sample(self) -> dict[str, float]:
        """Read every signal now and record it (a forced sample); returns the readings.

        After the watched process has exited the readings are NaN and nothing is recorded.
        """
        try:
            values = self._record()
        except ProcessLookupError:
            self.target_exited = True
            return dict.fromkeys(self.names, float("nan"))
        return dict(zip(self.names, values, strict=True))

    def _record(self) -> list[float]:
        # Read and stamp under the lock so that samples from the thread and forced
        # samples from the caller are stored in time order.
        with self._lock:
            values = self.source.read()
            self._buffer.add(time.monotonic() - self._t0, values)
        return values

    def _add(self, now: float, values: Sequence[float]) -> None:
        with self._lock:
            self._buffer.add(now - self._t0, values)

    def _loop(self) -> None:
        interval = self.interval
        deadline = self._t0 + interval
        wait = self._stop.wait
        while True:
            timeout = deadline - time.monotonic()
            if timeout > 0 and wait(timeout):
                return
            if self._stop.is_set():
                return
            now = time.monotonic()
            lateness = now - deadline
            if lateness >= interval:
                skipped = int(lateness // interval)
                self.missed += skipped
                deadline += skipped * interval
                lateness -= skipped * interval
            if lateness > interval / 2:
                self.late += 1
            self.max_lateness = max(self.max_lateness, lateness)
            try:
                self._record()
            except ProcessLookupError:
                self.target_exited = True
                return
            deadline += interval

    # -- phases ------------------------------------------------------------
    def mark_phase_start(self, name: str, at: float | None = None) -> None:
        """Open a phase now (or at monotonic time ``at``); phases nest and repeat."""
        with self._lock:
            self.phases.start(name, time.monotonic() if at is None else at)

    def mark_phase_end(self, name: str | None = None, at: float | None = None) -> None:
        """Close the latest open phase called ``name`` (the innermost when None)."""
        with self._lock:
            self.phases.end(name, time.monotonic() if at is None else at)

    # -- results -----------------------------------------------------------
    def elapsed(self) -> float:
        return time.monotonic() - self._t0 if self._thread is not None else 0.0

    def timeline(self) -> Timeline:
        """A snapshot of what was sampled so far (a copy; sampling may go on)."""
        with self._lock:
            buf = self._buffer
            t = buf.t[: buf.n].copy()
            values = buf.v[:, : buf.n].copy()
            peaks = {name: float(buf.peaks[i]) for i, name in enumerate(self.names)
                     if np.isfinite(buf.peaks[i])}
            phases = self.phases.snapshot(self._t0)
            factor = buf.factor
        if self.mode == "process" and t.size > 1:
            order = np.argsort(t, kind="stable")
            t, values = t[order], values[:, order]
        return Timeline(
            t=t,
            signals={name: values[i] for i, name in enumerate(self.names)},
            units=dict(self.source.units),
            phases=phases,
            interval=self.interval,
            mode=self.mode,
            started_at=self._started_at,
            late_samples=self.late,
            missed_samples=self.missed,
            downsampled=factor,
            unavailable=dict(self.source.unavailable),
            peaks=peaks,
            capacity=self.max_samples,
            bounded="downsample",
            max_lateness=self.max_lateness,
            target_pid=None if self.pid is None else self.pid,
        )

