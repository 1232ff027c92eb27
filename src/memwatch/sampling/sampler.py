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
Times use ``time.monotonic`` (one clock for all processes on Linux). The readers
live in :mod:`memwatch.sampling.sources`.
"""

from __future__ import annotations

import math
import os
import threading
import time
from array import array
from collections.abc import Sequence
from typing import TYPE_CHECKING

from memwatch.errors import ConfigError, UsageError
from memwatch.sampling.sources import (
    Mode,
    ProcessSource,
    SelfSource,
    Source,
    TreeSource,
    validate_signals,
)

if TYPE_CHECKING:  # numpy (via the model) loads only when a timeline is built
    from memwatch.model.timeline import Phase, Timeline

__all__ = [
    "DEFAULT_MAX_SAMPLES",
    "Mode",
    "PhaseBook",
    "ProcessSource",
    "Sampler",
    "SelfSource",
    "Source",
    "TreeSource",
    "validate_signals",
]

DEFAULT_MAX_SAMPLES = 200_000


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
        from memwatch.model.timeline import Phase

        return tuple(
            Phase(name=name, start=start - origin, end=None if end is None else end - origin, depth=depth)
            for name, start, end, depth in self._phases
        )


class _Buffer:
    """Compact growing buffers (``array('d')``, 8 bytes a value) up to ``cap`` samples; past
    it, keep every second one. No numpy while sampling: arrays are built in ``timeline()``."""

    def __init__(self, width: int, cap: int) -> None:
        self.cap = cap
        self.size = min(cap, 1024)
        self.t = array("d", bytes(8 * self.size))
        self.v = [array("d", bytes(8 * self.size)) for _ in range(width)]
        self.n = 0
        self.seen = 0
        self.factor = 1
        self.peaks = [-math.inf] * width

    def add(self, t: float, values: Sequence[float]) -> None:
        peaks = self.peaks
        for i, value in enumerate(values):
            peaks[i] = max(peaks[i], value)
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
        n = self.n
        self.t[n] = t
        for column, value in zip(self.v, values, strict=True):
            column[n] = value
        self.n = n + 1

    def _grow(self) -> None:
        extra = min(self.cap, self.size * 4) - self.size
        self.size += extra
        zeros = bytes(8 * extra)
        self.t.frombytes(zeros)
        for column in self.v:
            column.frombytes(zeros)

    def _halve(self) -> None:
        keep = (self.n + 1) // 2
        self.t[:keep] = self.t[: self.n : 2]
        for column in self.v:
            column[:keep] = column[: self.n : 2]
        self.n = keep
        self.factor *= 2


class Sampler:
    """Samples signals at a fixed interval in the background; see the module docstring.

    ``signals`` are probe names (``memwatch probes`` lists them); with ``pid`` the
    choice is ``rss``, ``vms`` and ``processes`` (the size of the process tree,
    thread mode only). Use as a context manager or call :meth:`start`/:meth:`stop`.
    ``source`` replaces the readers with any :class:`Source` (thread mode).
    """

    def __init__(
        self,
        interval: float = 0.01,
        signals: Sequence[str] | None = None,
        *,
        mode: Mode = "thread",
        pid: int | None = None,
        include_children: bool = True,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        source: Source | None = None,
    ) -> None:
        if (
            isinstance(interval, bool)
            or not isinstance(interval, int | float)
            or not math.isfinite(interval)
            or interval <= 0
        ):
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
        self.thread_cpu = 0.0  # CPU seconds the sampling thread used (thread mode)
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
        with self._lock:  # sources keep state (open files, a process list): one reader at a time
            values = self.source.read()
        return dict(zip(self.names, values, strict=True))

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

    def _record(self, full: bool = True) -> list[float]:
        # Read and stamp under the lock so that samples from the thread and forced
        # samples from the caller are stored in time order.
        with self._lock:
            values = self.source.read(full)
            self._buffer.add(time.monotonic() - self._t0, values)
        return values

    def _add(self, now: float, values: Sequence[float]) -> None:
        with self._lock:
            self._buffer.add(now - self._t0, values)

    def _loop(self) -> None:
        began = time.thread_time()
        try:
            self._sample_on_schedule()
        finally:
            self.thread_cpu = time.thread_time() - began

    def _sample_on_schedule(self) -> None:
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
                self._record(full=False)
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
        import numpy as np

        from memwatch.model.timeline import Timeline

        with self._lock:
            buf = self._buffer
            t = np.array(buf.t[: buf.n], dtype=float)
            values = np.empty((len(buf.v), buf.n))
            for i, column in enumerate(buf.v):
                values[i] = np.frombuffer(column, dtype=float, count=buf.n)
            peaks = {
                name: float(buf.peaks[i]) for i, name in enumerate(self.names) if math.isfinite(buf.peaks[i])
            }
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
            decimated=self.source.decimated,
            sampler_cpu=self.thread_cpu,
            target_pid=None if self.pid is None else self.pid,
        )
