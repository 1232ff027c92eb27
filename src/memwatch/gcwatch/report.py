"""Build a :class:`~memwatch.model.gc.GCReport` from a monitor's event stream."""

from __future__ import annotations

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
from memwatch.stats.gcstats import efficiency, estimate_promotions, pair_events, pause_stats

__all__ = ["Snapshot", "build_report", "collector_kind", "interpreter_info"]

GENERATIONS = ("gen0", "gen1", "gen2")


def collector_kind(version: tuple[int, ...] | None = None) -> str:
    """Which collector this interpreter runs: 3.14.0-3.14.4 shipped an incremental one
    (reverted in 3.14.5); every other CPython release here is generational."""
    v = tuple(sys.version_info[:3]) if version is None else tuple(version[:3])
    kind = "incremental" if (3, 14, 0) <= v < (3, 14, 5) else "generational"
    if getattr(sys, "_is_gil_enabled", lambda: True)() is False:
        kind += ", free-threaded"
    return kind


def interpreter_info(thresholds: tuple[int, ...], duration_source: str) -> InterpreterInfo:
    return InterpreterInfo(version=platform.python_version(), implementation=sys.implementation.name,
                           full_version=sys.version, collector=collector_kind(),
                           thresholds=tuple(int(t) for t in thresholds),
                           duration_source=duration_source, forced_detection=forced.METHOD)


@dataclass(frozen=True)
class Snapshot:
    """Collector state when a monitor started."""

    t_ns: int
    stats: tuple[dict[str, int], ...]
    garbage_len: int
    thresholds: tuple[int, ...]

    @classmethod
    def take(cls) -> Snapshot:
        return cls(t_ns=time.perf_counter_ns(), stats=tuple(gc.get_stats()),
                   garbage_len=len(gc.garbage), thresholds=tuple(gc.get_threshold()))


def _garbage_types(start: int) -> tuple[int, dict[str, int]]:
    garbage = gc.garbage
    new = garbage[start:] if len(garbage) >= start else list(garbage)
    counts = Counter(type(obj).__qualname__ for obj in new)
    return len(garbage) - start, dict(counts.most_common(20))


def build_report(events: Sequence[tuple[Any, ...]], snap: Snapshot, *, stop_ns: int, operations: int,
                 dropped: int, count_objects: bool, component: str) -> GCReport:
    """Pair the events, compute per-generation statistics, read the end state of the collector."""
    cols = pair_events(events)
    stats_now = gc.get_stats()
    wall_ms = max(0.0, (stop_ns - snap.t_ns) / 1e6)
    dur_ms = cols.duration_ns / 1e6
    pauses: dict[str, PauseStats] = {}
    generations: dict[str, GenerationStats] = {}
    for g, key in enumerate(GENERATIONS):
        mask = cols.generation == g
        pauses[key] = _pause(dur_ms[mask], wall_ms)
        before = snap.stats[g] if g < len(snap.stats) else {}
        after = stats_now[g] if g < len(stats_now) else {}
        count = int(after.get("collections", 0) - before.get("collections", 0))
        n_forced = int(np.count_nonzero(cols.forced[mask]))
        freed = cols.freed_bytes[mask]
        pause_ms = float(dur_ms[mask].sum())
        known = freed[~np.isnan(freed)]
        generations[key] = GenerationStats(
            collections=count, automatic=max(0, count - n_forced), forced=n_forced,
            collected=int(after.get("collected", 0) - before.get("collected", 0)),
            uncollectable=int(after.get("uncollectable", 0) - before.get("uncollectable", 0)),
            objects_per_ms=efficiency(float(cols.collected[mask].sum()), pause_ms),
            bytes_per_ms=efficiency(float(known.sum()), pause_ms) if known.size else None)
    pauses["all"] = _pause(dur_ms, wall_ms)
    total = sum(gen.collections for gen in generations.values())
    n_forced = sum(gen.forced for gen in generations.values())
    growth, types = _garbage_types(snap.garbage_len)
    freed_all = cols.freed_bytes[~np.isnan(cols.freed_bytes)]
    source = "interpreter" if bool(cols.from_interpreter.any()) else "perf_counter_ns"
    return GCReport(
        interpreter=interpreter_info(snap.thresholds, source),
        wall_ms=wall_ms, pauses=pauses, generations=generations,
        collections=total, automatic=max(0, total - n_forced), forced=n_forced,
        collected=sum(gen.collected for gen in generations.values()),
        uncollectable=Uncollectable(count=sum(gen.uncollectable for gen in generations.values()),
                                    garbage_growth=growth, types=types),
        promotions=estimate_promotions(cols),
        efficiency=efficiency(float(cols.collected.sum()), float(dur_ms.sum())),
        efficiency_bytes=(efficiency(float(freed_all.sum()), float(dur_ms.sum()))
                          if freed_all.size else None),
        operations=operations,
        collections_per_operation=total / operations if operations > 0 else None,
        events=GCEvents(generation=cols.generation.astype(np.float64),
                        start_ms=(cols.start_ns - snap.t_ns) / 1e6, duration_ms=dur_ms,
                        collected=cols.collected.astype(np.float64),
                        uncollectable=cols.uncollectable.astype(np.float64),
                        forced=cols.forced.astype(np.float64),
                        young_count=cols.young_count.astype(np.float64),
                        candidates=cols.candidates, freed_bytes=cols.freed_bytes),
        tracked_objects=len(gc.get_objects()) if count_objects else None,
        frozen_objects=gc.get_freeze_count(),
        dropped_events=dropped, unmatched_events=cols.unmatched, component=component)


def _pause(durations_ms: np.ndarray, wall_ms: float) -> PauseStats:
    s = pause_stats(durations_ms, wall_ms)
    return PauseStats(count=int(s["count"]), total_ms=s["total_ms"], mean_ms=s["mean_ms"],
                      p50_ms=s["p50_ms"], p95_ms=s["p95_ms"], p99_ms=s["p99_ms"], max_ms=s["max_ms"],
                      share=s["share"])
