"""Where a :class:`~memwatch.sampling.sampler.Sampler` gets its readings.

- :class:`SelfSource`: signals of this process from :mod:`memwatch.probes`.
- :class:`TreeSource`: RSS/VMS of another process summed with its descendants.
- :class:`ProcessSource`: a helper process that reads ``/proc/<pid>/statm`` on its
  own clock (not slowed by this interpreter's GIL), for intervals below ~5 ms.

Reading a kept-open statm file with ``os.pread`` costs about 1 µs; psutil about 9 µs.
Every reading comes from :mod:`memwatch.probes` (the helper process runs the probes'
script :data:`memwatch.probes.process.STATM_SAMPLER`).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

from memwatch.errors import ConfigError
from memwatch.probes.signals import CHEAP
from memwatch.probes.signals import signal as probe_signal

if TYPE_CHECKING:  # subprocess loads only when a helper process starts (mode="process")
    import subprocess

    from memwatch.probes.process import StatmReader

__all__ = ["Mode", "ProcessSource", "SelfSource", "Source", "TreeSource", "validate_signals"]

Mode = Literal["thread", "process"]


class Source:
    """Where samples come from: ``read()`` returns one value per name, in order.

    ``full=False`` (timed samples) lets a source skip a costly reading (NaN);
    ``full=True`` (forced samples: phase marks, ``check_memory``) reads everything.
    """

    names: tuple[str, ...] = ()
    units: dict[str, str]
    unavailable: dict[str, str]

    def read(self, full: bool = True) -> list[float]:
        raise NotImplementedError

    @property
    def decimated(self) -> dict[str, int]:
        """Signals read only every k-th timed sample (NaN between), and their k."""
        return {}

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
    and listed with their reason in ``unavailable``.

    Each sample should cost at most ``budget`` seconds (default 20 µs). The CPU time
    of a reading is measured now and then (every 16th read, and every read of a
    signal that is being skipped); a signal that costs
    more than its share is read only every k-th timed sample, NaN in between, so that
    its average fits. That
    matters for ``py_blocks``: ``sys.getallocatedblocks`` visits every pool of the
    Python heap, about 2 µs on a fresh interpreter but ~100 µs with a million small
    objects alive. The first signal is always read; ``budget=None`` reads all always.
    """

    def __init__(self, signals: Sequence[str] | None, *, budget: float | None = 20e-6) -> None:
        chosen = [probe_signal(name) for name in _unique(CHEAP if signals is None else signals)]
        self.unavailable = {s.name: s.reason for s in chosen if not s.available}
        usable = [s for s in chosen if s.available]
        self.names = tuple(s.name for s in usable)
        self.units = {s.name: s.unit for s in usable}
        self._readers = [s.read for s in usable]
        self._share = None if budget is None else budget / max(len(usable), 1)
        self._cost = [0.0] * len(usable)
        self._every = [1] * len(usable)
        self._most = [1] * len(usable)
        self._reads = [0] * len(usable)
        self._tick = 0
        for read in self._readers:  # pay first-call costs (ctypes, opening statm) up front
            read()

    def read(self, full: bool = True) -> list[float]:
        tick = self._tick
        if not full:
            self._tick += 1
        out = []
        for i, read in enumerate(self._readers):
            if not full and tick % self._every[i]:
                out.append(_NAN)
                continue
            self._reads[i] += 1
            if i == 0 or self._share is None or (self._every[i] == 1 and self._reads[i] % _TIME_EVERY):
                out.append(float(read()))
                continue
            # CPU time of this thread: a reader that releases the GIL (ctypes, os.pread)
            # must not be charged for the wait to get it back while the program computes.
            began = time.thread_time()
            out.append(float(read()))
            cost = max(time.thread_time() - began, 1e-9)
            self._cost[i] = cost if not self._cost[i] else 0.7 * self._cost[i] + 0.3 * cost
            self._every[i] = min(max(int(self._cost[i] / self._share), 1), _MAX_EVERY)
            self._most[i] = max(self._most[i], self._every[i])
        return out

    @property
    def decimated(self) -> dict[str, int]:
        return {name: k for name, k in zip(self.names, self._most, strict=True) if k > 1}


_NAN = float("nan")
_MAX_EVERY = 100
_TIME_EVERY = 16  # re-measure a signal's cost every 16th sample


_OTHER_PROCESS = ("rss", "vms", "processes")


def _check_other(
    signals: Sequence[str] | None, allowed: tuple[str, ...], default: tuple[str, ...], why: str
) -> list[str]:
    names = _unique(default if signals is None else signals)
    for name in names:
        if name not in _OTHER_PROCESS:
            try:
                probe_signal(name)
            except ConfigError:
                raise ConfigError(
                    f"unknown probe {name!r}; probes read {why}: {', '.join(allowed)}"
                ) from None
        if name not in allowed:
            raise ConfigError(f"probe {name!r} cannot be read {why}; use: {', '.join(allowed)}")
    return names


def validate_signals(
    signals: Sequence[str] | None, *, mode: Mode = "thread", other_process: bool = False
) -> tuple[str, ...]:
    """The signal names a sampler would record, or ConfigError naming the bad one.

    Lets a caller check its options before it starts anything (``memwatch run``
    checks them before it launches the command).
    """
    if mode == "process":
        return tuple(_check_other(signals, ("rss", "vms"), ("rss",), "in process mode"))
    if other_process:
        return tuple(_check_other(signals, _OTHER_PROCESS, ("rss", "processes"), "from another process"))
    return tuple(s for s in _unique(CHEAP if signals is None else signals) if probe_signal(s).available)


class TreeSource(Source):
    """RSS/VMS of another process summed with its descendants (found with psutil every
    ``refresh`` seconds; children that appear and exit between two scans are missed).
    ``processes`` counts the tree. Raises ProcessLookupError once the root has exited."""

    def __init__(
        self, pid: int, signals: Sequence[str] | None, *, include_children: bool = True, refresh: float = 0.25
    ) -> None:
        self.names = tuple(
            _check_other(signals, _OTHER_PROCESS, ("rss", "processes"), "from another process")
        )
        self.units = {name: "count" if name == "processes" else "bytes" for name in self.names}
        self.unavailable = {}
        self.pid = pid
        self.include_children = include_children
        self.refresh = refresh
        from memwatch.probes.process import StatmReader  # another process: not the sampling path

        self._root = StatmReader(pid)
        self._members: dict[int, StatmReader] = {}
        self._next_scan = 0.0

    def _scan(self) -> None:
        from memwatch.probes.process import StatmReader, process_tree

        found = process_tree(self.pid)
        for pid in list(self._members):
            if pid not in found:
                self._members.pop(pid).close()
        for pid in found - set(self._members):
            try:
                self._members[pid] = StatmReader(pid)
            except ProcessLookupError:
                pass

    def read(self, full: bool = True) -> list[float]:
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
        from memwatch.probes.process import StatmReader

        self._statm = StatmReader(pid)
        self._proc: subprocess.Popen[bytes] | None = None
        self.thread: threading.Thread | None = None
        self.late = 0
        self.missed = 0
        self.max_lateness = 0.0
        self.exited = False

    def read(self, full: bool = True) -> list[float]:
        rss, vms = self._statm.read()
        values = {"rss": float(rss), "vms": float(vms)}
        return [values[name] for name in self.names]

    def start(self, t0: float, add: Callable[[float, Sequence[float]], None]) -> None:
        import subprocess

        from memwatch.probes.process import STATM_SAMPLER

        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-S",
                "-c",
                STATM_SAMPLER,
                str(self.pid),
                repr(self.interval),
                str(os.getpid()),
                repr(t0 + self.interval),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.thread = threading.Thread(
            target=self._drain, args=(add,), name="memwatch-sampler-reader", daemon=True
        )
        self.thread.start()

    def _drain(self, add: Callable[[float, Sequence[float]], None]) -> None:
        assert self._proc is not None
        assert self._proc.stdout is not None
        from memwatch.probes.process import STATM_RECORD

        fd = self._proc.stdout.fileno()
        pending = b""
        previous: float | None = None
        half = self.interval / 2
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            pending += chunk
            usable = len(pending) - len(pending) % STATM_RECORD.size
            for deadline, now, rss, vms in STATM_RECORD.iter_unpack(pending[:usable]):
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
