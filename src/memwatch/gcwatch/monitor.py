"""GCMonitor: every collection's generation, pause, objects collected, from ``gc.callbacks``.

The callback keeps a few readings at the start and appends one tuple at the stop
(see :mod:`memwatch.stats.gcstats` for the layout) and does nothing else: about
half a microsecond per collection, on a collector whose young collections take
tens of microseconds (BENCHMARKS.md). Everything else is computed once, when the
monitor stops.
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from types import TracebackType
from typing import Any, Self

from memwatch.errors import ConfigError, UsageError
from memwatch.gcwatch import forced
from memwatch.gcwatch.report import Snapshot, build_report
from memwatch.model.gc import GCReport

__all__ = ["GCMonitor"]


class GCMonitor:
    """Record every garbage collection while running; ``report`` once stopped.

    ``with GCMonitor() as gm: work(); gm.count_operation()`` then ``gm.report``.
    It covers the whole process: a collection triggered by any thread pauses all of
    them. ``count_objects`` counts tracked objects at the end (one O(objects) walk,
    which the advisor uses); ``max_collections`` bounds memory (one tuple of about
    200 bytes per collection): beyond it collections are counted, not recorded, and
    the collection counts stay exact (they come from ``gc.get_stats()``).
    """

    def __init__(
        self, *, count_objects: bool = True, max_collections: int = 250_000, component: str = ""
    ) -> None:
        if isinstance(max_collections, bool) or not isinstance(max_collections, int) or max_collections < 1:
            raise ConfigError(f"max_collections must be a positive integer, got {max_collections!r}")
        self.count_objects = count_objects
        self.max_collections = max_collections
        self.component = component
        self.operations = 0
        self._rows: list[Any] = []
        self._dropped = 0
        self._unmatched = 0
        self._running = False
        self._report: GCReport | None = None
        self._snapshot: Snapshot | None = None
        self._installed: Any = None

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> Self:
        """Begin recording. A running monitor cannot be started again (UsageError)."""
        if self._running:
            raise UsageError(
                "GCMonitor is already running: enter a monitor once at a time "
                "(create a second GCMonitor to nest)"
            )
        self._rows = []
        self._dropped = 0
        self._unmatched = 0
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
        assert self._snapshot is not None
        intervals = forced.intervals_between(self._snapshot.t_ns, stop_ns)
        forced.uninstall()
        self._report = build_report(
            self._rows,
            self._snapshot,
            stop_ns=stop_ns,
            forced_calls=intervals,
            operations=self.operations,
            dropped=self._dropped,
            unmatched=self._unmatched,
            count_objects=self.count_objects,
            component=self.component,
        )
        return self._report

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
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
    def collections_seen(self) -> int:
        """Collections finished so far (recorded, dropped or unmatched): a cheap change marker."""
        return len(self._rows) + self._dropped + self._unmatched

    @property
    def report(self) -> GCReport:
        """The report of the last monitored span; UsageError before the monitor stopped."""
        if self._report is None:
            state = "still running" if self._running else "never started"
            raise UsageError(f"GCMonitor has no report yet: the monitor is {state}")
        return self._report

    # -- the callback --------------------------------------------------------------
    def _callback(self) -> Any:
        """The function registered in ``gc.callbacks``: two reads at the start, one row at the stop.

        Everything is bound as closure variables (no attribute lookups on the hot
        path); forced collections are found later from the ``gc.collect`` wrapper's
        intervals. tracemalloc is read only if it was tracing when the monitor
        started, the 3.15+ keys only on interpreters that send them.
        """
        rows = self._rows
        append = rows.append
        clock = time.perf_counter_ns
        get_count = gc.get_count
        isenabled = gc.isenabled
        traced = tracemalloc.get_traced_memory if tracemalloc.is_tracing() else None
        fast = traced is None and sys.version_info < (3, 15)
        limit = self.max_collections
        monitor = self
        t0 = traced0 = -1
        young0 = 0
        disabled0 = False

        def on_gc_fast(phase: str, info: dict[str, Any]) -> None:
            nonlocal t0, young0, disabled0
            if phase == "start":
                young0 = get_count()[0]
                disabled0 = not isenabled()
                t0 = clock()
                return
            t = clock()
            if t0 < 0:
                monitor._unmatched += 1
            elif len(rows) < limit:
                append(
                    (
                        t0,
                        t,
                        info["generation"],
                        young0,
                        disabled0,
                        info["collected"],
                        info["uncollectable"],
                        -1,
                        -1,
                        -1,
                        -1,
                    )
                )
            else:
                monitor._dropped += 1
            t0 = -1

        def on_gc(phase: str, info: dict[str, Any]) -> None:
            nonlocal t0, young0, disabled0, traced0
            if phase == "start":
                young0 = get_count()[0]
                disabled0 = not isenabled()
                traced0 = traced()[0] if traced is not None else -1
                t0 = clock()
                return
            t = clock()
            if t0 < 0:
                monitor._unmatched += 1
            elif len(rows) < limit:
                append(
                    (
                        t0,
                        t,
                        info["generation"],
                        young0,
                        disabled0,
                        info["collected"],
                        info["uncollectable"],
                        round(info.get("duration", -1e-9) * 1e9),
                        info.get("candidates", -1),
                        traced0,
                        traced()[0] if traced is not None else -1,
                    )
                )
            else:
                monitor._dropped += 1
            t0 = -1

        self._installed = on_gc_fast if fast else on_gc
        return self._installed
