"""Build a :class:`~memwatch.model.gc.GCReport` from a monitor's event stream."""

from __future__ import annotations

import dataclasses
import gc
import platform
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from memwatch.gcwatch import forced
from memwatch.model.gc import (
    GCEvents,
    GCReport,
    GenerationStats,
    InterpreterInfo,
    PauseStats,
    Uncollectable,
)
from memwatch.stats.gcstats import (
    Collections,
    classify_forced,
    collections_from_rows,
    efficiency,
    estimate_promotions,
    pair_events,
    pause_stats,
)

__all__ = [
    "Snapshot",
    "build_report",
    "collector_kind",
    "interpreter_info",
    "report_from_collections",
    "report_from_events",
]

GENERATIONS = ("gen0", "gen1", "gen2")


def collector_kind(version: tuple[int, ...] | None = None) -> str:
    """Which collector this interpreter runs: 3.14.0-3.14.4 shipped an incremental one
    (reverted in 3.14.5); every other CPython release here is generational."""
    v = tuple(sys.version_info[:3]) if version is None else tuple(version[:3])
    kind = "incremental" if (3, 14, 0) <= v < (3, 14, 5) else "generational"
    if getattr(sys, "_is_gil_enabled", lambda: True)() is False:
        kind += ", free-threaded"
    return kind


def interpreter_info(
    thresholds: tuple[int, ...], duration_source: str, forced_detection: str
) -> InterpreterInfo:
    return InterpreterInfo(
        version=platform.python_version(),
        implementation=sys.implementation.name,
        full_version=sys.version,
        collector=collector_kind(),
        thresholds=tuple(int(t) for t in thresholds),
        duration_source=duration_source,
        forced_detection=forced_detection,
    )


@dataclass(frozen=True)
class Snapshot:
    """Collector state when a monitor started."""

    t_ns: int
    stats: tuple[dict[str, int], ...]
    garbage_len: int
    thresholds: tuple[int, ...]

    @classmethod
    def take(cls) -> Snapshot:
        return cls(
            t_ns=time.perf_counter_ns(),
            stats=tuple(gc.get_stats()),
            garbage_len=len(gc.garbage),
            thresholds=tuple(gc.get_threshold()),
        )


def _garbage_types(start: int) -> tuple[int, dict[str, int]]:
    garbage = gc.garbage
    new = garbage[start:] if len(garbage) >= start else list(garbage)
    counts = Counter(type(obj).__qualname__ for obj in new)
    return len(garbage) - start, dict(counts.most_common(20))


def build_report(
    rows: Sequence[Any],
    snap: Snapshot,
    *,
    stop_ns: int,
    forced_calls: Sequence[tuple[int, int]],
    operations: int,
    dropped: int,
    unmatched: int,
    count_objects: bool,
    component: str,
) -> GCReport:
    """Read the end state of the collector, then :func:`report_from_collections`."""
    stats_now = gc.get_stats()
    keys = ("collections", "collected", "uncollectable")
    delta = [
        {key: after.get(key, 0) - before.get(key, 0) for key in keys}
        for before, after in zip(snap.stats, stats_now, strict=False)
    ]
    unchanged = tuple(gc.get_threshold()) == snap.thresholds
    rule = forced.TRIGGER_RULE and unchanged
    return report_from_collections(
        collections_from_rows(rows, unmatched),
        wall_ms=max(0.0, (stop_ns - snap.t_ns) / 1e6),
        t0_ns=snap.t_ns,
        thresholds=snap.thresholds,
        stats_delta=delta,
        operations=operations,
        dropped=dropped,
        tracked_objects=len(gc.get_objects()) if count_objects else None,
        frozen_objects=gc.get_freeze_count(),
        garbage=_garbage_types(snap.garbage_len),
        component=component,
        trigger_rule=rule,
        forced_calls=forced_calls,
        forced_detection=forced.METHOD if unchanged else "gc.collect wrapper (thresholds changed)",
    )


def report_from_events(events: Sequence[tuple[Any, ...]], **kwargs: Any) -> GCReport:
    """:func:`report_from_collections` for a raw callback event stream (synthetic tests)."""
    return report_from_collections(pair_events(events), **kwargs)


def report_from_collections(
    cols: Collections,
    *,
    wall_ms: float,
    t0_ns: int = 0,
    thresholds: tuple[int, ...] = (700, 10, 10),
    stats_delta: Sequence[dict[str, int]] | None = None,
    operations: int = 0,
    dropped: int = 0,
    tracked_objects: int | None = None,
    frozen_objects: int = 0,
    garbage: tuple[int, dict[str, int]] = (0, {}),
    component: str = "",
    trigger_rule: bool = False,
    forced_detection: str = "",
    forced_calls: Sequence[tuple[int, int]] = (),
) -> GCReport:
    """Build a report from collections (pure: synthetic streams give known reports).

    ``stats_delta`` is the change of ``gc.get_stats()`` over the span, which keeps
    collection counts exact when collections were dropped; without it they come
    from ``cols``. ``trigger_rule`` applies the 3.11 rule of
    :func:`~memwatch.stats.gcstats.classify_forced` with ``thresholds[0]``.
    """
    forced_flags = classify_forced(cols.forced, cols.young_count, thresholds[0] if trigger_rule else None)
    cols = dataclasses.replace(cols, forced=forced_flags)
    dur_ms = cols.duration_ns / 1e6
    pauses: dict[str, PauseStats] = {}
    generations: dict[str, GenerationStats] = {}
    for g, key in enumerate(GENERATIONS):
        mask = cols.generation == g
        if stats_delta is not None and g < len(stats_delta):
            delta = stats_delta[g]
        else:
            delta = {
                "collections": int(mask.sum()),
                "collected": int(cols.collected[mask].sum()),
                "uncollectable": int(cols.uncollectable[mask].sum()),
            }
        pauses[key] = _pause(dur_ms[mask], wall_ms)
        count = int(delta.get("collections", 0))
        n_forced = int(np.count_nonzero(cols.forced[mask]))
        pause_ms = float(dur_ms[mask].sum())
        known = cols.freed_bytes[mask][~np.isnan(cols.freed_bytes[mask])]
        generations[key] = GenerationStats(
            collections=count,
            automatic=max(0, count - n_forced),
            forced=n_forced,
            collected=int(delta.get("collected", 0)),
            uncollectable=int(delta.get("uncollectable", 0)),
            objects_per_ms=efficiency(float(cols.collected[mask].sum()), pause_ms),
            bytes_per_ms=efficiency(float(known.sum()), pause_ms) if known.size else None,
        )
    pauses["all"] = _pause(dur_ms, wall_ms)
    total = sum(gen.collections for gen in generations.values())
    n_forced = sum(gen.forced for gen in generations.values())
    freed_all = cols.freed_bytes[~np.isnan(cols.freed_bytes)]
    source = "interpreter" if bool(cols.from_interpreter.any()) else "perf_counter_ns"
    return GCReport(
        interpreter=interpreter_info(thresholds, source, forced_detection or forced.METHOD),
        wall_ms=wall_ms,
        pauses=pauses,
        generations=generations,
        collections=total,
        automatic=max(0, total - n_forced),
        forced=n_forced,
        collected=sum(gen.collected for gen in generations.values()),
        uncollectable=Uncollectable(
            count=sum(gen.uncollectable for gen in generations.values()),
            garbage_growth=garbage[0],
            types=dict(garbage[1]),
        ),
        promotions=estimate_promotions(cols),
        efficiency=efficiency(float(cols.collected.sum()), float(dur_ms.sum())),
        efficiency_bytes=(
            efficiency(float(freed_all.sum()), float(dur_ms.sum())) if freed_all.size else None
        ),
        operations=operations,
        collections_per_operation=total / operations if operations > 0 else None,
        events=GCEvents(
            generation=cols.generation.astype(np.float64),
            start_ms=(cols.start_ns - t0_ns) / 1e6,
            duration_ms=dur_ms,
            collected=cols.collected.astype(np.float64),
            uncollectable=cols.uncollectable.astype(np.float64),
            forced=cols.forced.astype(np.float64),
            young_count=cols.young_count.astype(np.float64),
            candidates=cols.candidates,
            freed_bytes=cols.freed_bytes,
        ),
        tracked_objects=tracked_objects,
        frozen_objects=frozen_objects,
        dropped_collections=dropped,
        unmatched_events=cols.unmatched,
        component=component,
    )


def _pause(durations_ms: np.ndarray, wall_ms: float) -> PauseStats:
    s = pause_stats(durations_ms, wall_ms)
    return PauseStats(
        count=int(s["count"]),
        total_ms=s["total_ms"],
        mean_ms=s["mean_ms"],
        p50_ms=s["p50_ms"],
        p95_ms=s["p95_ms"],
        p99_ms=s["p99_ms"],
        max_ms=s["max_ms"],
        share=s["share"],
    )
