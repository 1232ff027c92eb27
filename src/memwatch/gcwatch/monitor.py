"""GCMonitor: every collection's generation, pause, objects collected, from ``gc.callbacks``.

The callback stores one small tuple per start and per stop (see
:mod:`memwatch.stats.gcstats` for the layout) and does nothing else, so its cost
is a clock read and a list append: well under a microsecond per collection on a
collector whose young collections take tens of microseconds. Everything else is
computed once, when the monitor stops.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from threading import get_ident
from types import TracebackType
from typing import Any, Self

from memwatch.errors import ConfigError, UsageError
from memwatch.gcwatch import forced
from memwatch.gcwatch.report import Snapshot, build_report
from memwatch.model.gc import GCReport
from memwatch.stats.gcstats import START, STOP

__all__ = ["GCMonitor"]


class GCMonitor:
    """Record every garbage collection while running; ``report`` once stopped.

    ``with GCMonitor() as gm: work(); gm.count_operation()`` then ``gm.report``.
    It covers the whole process: a collection triggered by any thread pauses all of
    them. ``count_objects`` counts tracked objects at the end (one O(objects) walk,
    which the advisor uses); ``max_events`` bounds memory (two tuples per
    collection): beyond it events are dropped and counted, while the collection
    counts stay exact (they come from ``gc.get_stats()``).
    """

    def __init__(self, *, count_objects: bool = True, max_events: int = 2_000_000,
                 component: str = "") -> None:
        if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 2:
            raise ConfigError(f"max_events must be an integer >= 2, got {max_events!r}")
        self.count_objects = count_objects
        self.max_events = max_events
        self.component = component
        self.operations = 0
        self._events: list[tuple[Any, ...]] = []
        self._dropped = 0
        self._running = False
        self._report: GCReport | None = None
        self._snapshot: Snapshot | None = None
        self._installed: Any = None

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> Self:
        """Begin recording. A running monitor cannot be started again (UsageError)."""
        if self._running:
            raise UsageError("GCMonitor is already running: enter a monitor once at a time "
                             "(create a second GCMonitor to nest)")
        self._events = []
        self._dropped = 0
        self.operations = 0
        self._report = None
        self._snapshot = Snapshot.take()
        forced.install()
        gc.callbacks.append(self._callback())
        self._running = True
        return self

    def stop(self) -> GCReport:
        """Stop recording and build the report. UsageError when not running."""
        if not self._running:
            raise UsageError("GCMonitor.stop() called without start(): the monitor is not running")
        self._running = False
        stop_ns = time.perf_counter_ns()
        callback = self._installed
        try:
            gc.callbacks.remove(callback)
        except ValueError:  # someone cleared gc.callbacks; nothing left to remove
            pass
        forced.uninstall()
        assert self._snapshot is not None
        self._report = build_report(self._events, self._snapshot, stop_ns=stop_ns,
                                    operations=self.operations, dropped=self._dropped,
                                    count_objects=self.count_objects, component=self.component)
        return self._report

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._running:
            self.stop()

    # -- while running -----------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._running

    def count_operation(self, n: int = 1) -> None:
        """Count ``n`` operations of the workload (for ``collections_per_operation``)."""
        if n < 0:
            raise ConfigError(f"operation count must not be negative, got {n}")
        self.operations += n

    @property
    def events_seen(self) -> int:
        """Callback events recorded so far (two per collection): a cheap change marker."""
        return len(self._events) + self._dropped

    @property
    def report(self) -> GCReport:
        """The report of the last monitored span; UsageError before the monitor stopped."""
        if self._report is None:
            state = "still running" if self._running else "never started"
            raise UsageError(f"GCMonitor has no report yet: the monitor is {state}")
        return self._report

    # -- the callback --------------------------------------------------------------
    def _callback(self) -> Any:
        events = self._events
        append = events.append
        clock = time.perf_counter_ns
        get_count = gc.get_count
        get_threshold = gc.get_threshold
        isenabled = gc.isenabled
        forced_threads = forced.FORCED_THREADS
        rule311 = forced.METHOD.endswith("trigger rule")
        traced = tracemalloc.get_traced_memory
        is_tracing = tracemalloc.is_tracing
        limit = self.max_events
        monitor = self

        def on_gc(phase: str, info: dict[str, Any]) -> None:
            t = clock()
            if len(events) >= limit:
                monitor._dropped += 1
                return
            if phase == "start":
                young = get_count()[0]
                is_forced = (not isenabled() or (bool(forced_threads) and get_ident() in forced_threads)
                             or (rule311 and (young <= get_threshold()[0] or get_threshold()[0] == 0)))
                append((START, t, info["generation"], young, is_forced,
                        traced()[0] if is_tracing() else -1))
            else:
                append((STOP, t, info["generation"], info["collected"], info["uncollectable"],
                        info.get("duration", -1.0), info.get("candidates", -1),
                        traced()[0] if is_tracing() else -1))

        self._installed = on_gc
        return on_gc
