"""Statistics of garbage-collection pauses: pure functions on callback data.

``gc.callbacks`` calls back twice per collection, at its start and its stop. A
monitor keeps the start's readings and, at the stop, records one *row* per
collection::

    (t_start_ns, t_stop_ns, generation, young_count, forced,
     collected, uncollectable, duration_ns, candidates, traced_start, traced_stop)

``t_*_ns`` are ``time.perf_counter_ns()`` when the callbacks ran; ``young_count`` is
``gc.get_count()[0]`` at the start; ``forced`` is True when automatic collection
was disabled (see :func:`classify_forced` for the rest); ``duration_ns`` is the
interpreter's own duration (the ``"duration"`` key of Python 3.15+, given in
seconds there) or -1 when it gave none; ``candidates`` is the interpreter's count
of objects it examined (3.15+) or -1; ``traced_*`` is tracemalloc's current total,
or -1 when it was not tracing. Every field is an integer.

:func:`pair_events` turns a raw *event stream* (one tuple per callback) into the
same rows, so the statistics are tested on synthetic streams with known answers::

    (START, t_ns, generation, young_count, forced, traced_bytes)
    (STOP,  t_ns, generation, collected, uncollectable, duration_s, candidates, traced_bytes)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "START",
    "STOP",
    "Collections",
    "classify_forced",
    "collections_from_rows",
    "efficiency",
    "estimate_promotions",
    "latency_split",
    "pair_events",
    "pause_stats",
    "percentile",
]

START = 0
STOP = 1
_NAN = float("nan")
Row = tuple[int, int, int, int, bool, int, int, int, int, int, int]  # all integers


@dataclass(frozen=True, eq=False)
class Collections:
    """One entry per collection, as parallel arrays.

    ``duration_ns`` is the interpreter's duration where it gave one
    (``from_interpreter`` True), else stop minus start of the callback pair, which
    also contains the cost of the callbacks registered before ours.
    ``freed_bytes`` is NaN unless tracemalloc traced both ends; ``candidates`` is NaN
    unless the interpreter reported it. ``unmatched`` counts callback events without
    a partner (a monitor started or stopped in the middle of a collection).
    """

    generation: np.ndarray
    start_ns: np.ndarray
    stop_ns: np.ndarray
    duration_ns: np.ndarray
    collected: np.ndarray
    uncollectable: np.ndarray
    young_count: np.ndarray
    forced: np.ndarray
    candidates: np.ndarray
    freed_bytes: np.ndarray
    from_interpreter: np.ndarray
    unmatched: int = 0

    def __len__(self) -> int:
        return int(self.generation.shape[0])


def collections_from_rows(rows: Sequence[Row], unmatched: int = 0) -> Collections:
    """Columns of the rows as numpy arrays (one C-level conversion: no per-row Python work)."""
    flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=11 * len(rows))
    table = flat.reshape(-1, 11)
    t0, t1 = table[:, 0], table[:, 1]
    duration = table[:, 7].astype(np.float64)
    candidates = table[:, 8].astype(np.float64)
    traced0 = table[:, 9].astype(np.float64)
    traced1 = table[:, 10].astype(np.float64)
    from_interp = duration >= 0
    return Collections(
        generation=table[:, 2],
        start_ns=t0,
        stop_ns=t1,
        duration_ns=np.where(from_interp, duration, (t1 - t0).astype(np.float64)),
        collected=table[:, 5],
        uncollectable=table[:, 6],
        young_count=table[:, 3],
        forced=table[:, 4].astype(bool),
        candidates=np.where(candidates >= 0, candidates, _NAN),
        freed_bytes=np.where((traced0 >= 0) & (traced1 >= 0), traced0 - traced1, _NAN),
        from_interpreter=from_interp,
        unmatched=unmatched,
    )


def pair_events(events: Sequence[tuple[Any, ...]]) -> Collections:
    """Pair each STOP with the START before it (same generation) into :class:`Collections`.

    Collections never nest (the collector refuses to re-enter), so a START that
    follows a START replaces it and the first counts as unmatched; a STOP with no
    START, or of another generation, is unmatched too.
    """
    rows: list[Row] = []
    unmatched = 0
    pending: tuple[Any, ...] | None = None
    for event in events:
        if event[0] == START:
            if pending is not None:
                unmatched += 1
            pending = event
            continue
        if pending is None or pending[2] != event[2]:
            unmatched += 1 + (pending is not None)
            pending = None
            continue
        _, t0, gen, young, forced, traced0 = pending
        _, t1, _, collected, uncollectable, duration_s, candidates, traced1 = event
        pending = None
        duration_ns = round(duration_s * 1e9) if duration_s is not None and duration_s >= 0 else -1
        rows.append(
            (t0, t1, gen, young, forced, collected, uncollectable, duration_ns, candidates, traced0, traced1)
        )
    if pending is not None:
        unmatched += 1
    return collections_from_rows(rows, unmatched)


def classify_forced(
    flags: np.ndarray,
    young_count: np.ndarray,
    threshold0: int | None,
    *,
    start_ns: np.ndarray | None = None,
    forced_calls: Sequence[tuple[int, int]] = (),
) -> np.ndarray:
    """Which collections were forced (``gc.collect()``) rather than automatic.

    ``flags`` is what the callback saw (automatic collection disabled). A collection
    whose start lies inside a ``forced_calls`` interval (start, stop of a
    ``gc.collect()`` call, same clock as ``start_ns``) was forced: the collector
    runs one collection at a time. With ``threshold0`` given (CPython 3.11,
    thresholds unchanged over the span) the trigger rule decides too: an automatic
    collection starts only when the young count exceeds threshold0, and never when
    threshold0 is 0, so a start at or below it was forced.
    """
    forced = np.asarray(flags, dtype=bool).copy()
    if forced_calls and start_ns is not None and forced.size:
        calls = np.asarray(sorted(forced_calls), dtype=np.int64).reshape(-1, 2)
        ends = np.maximum.accumulate(calls[:, 1])
        starts = np.asarray(start_ns, dtype=np.int64)
        idx = np.searchsorted(calls[:, 0], starts, side="right") - 1
        inside = idx >= 0
        inside[inside] = starts[inside] <= ends[idx[inside]]
        forced |= inside
    if threshold0 is None:
        return forced
    if threshold0 == 0:
        return np.ones_like(forced)
    return forced | (np.asarray(young_count) <= threshold0)


def percentile(values: Sequence[float] | np.ndarray, q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between order statistics
    (numpy's default); 0.0 for no values, so "no pause" reads as a zero pause."""
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile {q!r} is outside [0, 100]")
    arr = np.sort(np.asarray(values, dtype=np.float64))
    return _sorted_percentile(arr, q) if arr.size else 0.0


def _sorted_percentile(arr: np.ndarray, q: float) -> float:
    # numpy's "linear" method on an already sorted array, without np.percentile's overhead
    pos = (arr.size - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, arr.size - 1)
    return float(arr[lo] + (arr[hi] - arr[lo]) * (pos - lo))


def pause_stats(durations_ms: Sequence[float] | np.ndarray, wall_ms: float) -> dict[str, float]:
    """count, total, mean, p50/p95/p99, max (ms) of pauses, and their share of ``wall_ms``.

    Pauses are taken as given (no outlier removal): a rare long pause is exactly what
    p99 and max are for. With few pauses p99 is close to max (interpolation). An
    empty set gives zeros; ``share`` is 0 when the wall time is not positive.
    """
    arr = np.asarray(durations_ms, dtype=np.float64)
    total = float(arr.sum()) if arr.size else 0.0
    ordered = np.sort(arr)
    p50, p95, p99 = (
        (_sorted_percentile(ordered, q) for q in (50.0, 95.0, 99.0)) if arr.size else (0.0, 0.0, 0.0)
    )
    return {
        "count": float(arr.size),
        "total_ms": total,
        "mean_ms": total / arr.size if arr.size else 0.0,
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "max_ms": float(ordered[-1]) if arr.size else 0.0,
        "share": total / wall_ms if wall_ms > 0 else 0.0,
    }


def estimate_promotions(collections: Collections) -> dict[str, int]:
    """Objects that survived a collection of generation g and moved to g + 1.

    Exact where the interpreter reports ``candidates`` (survivors = candidates -
    collected - uncollectable). Otherwise an estimate: the young generation's
    population is taken as ``young_count`` (allocations minus deallocations of
    tracked objects since the last collection; deaths of older objects lower it, so
    this tends to undercount), and generation 1's as the survivors promoted into it
    since its last collection (deaths there are unseen, so this tends to overcount).
    Keys: ``"gen0->gen1"``, ``"gen1->gen2"``.
    """
    gen = collections.generation
    dead = (collections.collected + collections.uncollectable).astype(np.float64)
    cand = collections.candidates
    known = ~np.isnan(cand)
    young = collections.young_count.astype(np.float64)
    is0 = gen == 0
    survivors0 = np.where(is0, np.maximum(0.0, np.where(known, cand, young) - dead), 0.0)
    # generation 1's population: survivors promoted since its last collection (gen 1 or 2)
    segment = np.cumsum(gen >= 1)
    pool = np.bincount(segment, weights=survivors0, minlength=int(segment[-1]) + 1 if gen.size else 1)
    is1 = gen == 1
    pool_at = pool[np.maximum(segment - 1, 0)]
    examined1 = np.where(known, cand, young + pool_at)
    into1 = int(survivors0.sum())
    into2 = int(np.maximum(0.0, examined1 - dead)[is1].sum())
    return {"gen0->gen1": into1, "gen1->gen2": into2}


def efficiency(collected: float, pause_ms: float) -> float:
    """Objects (or bytes) reclaimed per millisecond of pause; 0 when nothing paused."""
    return float(collected) / pause_ms if pause_ms > 0 else 0.0


def latency_split(
    latencies_ms: Sequence[float] | np.ndarray, overlapped: Sequence[bool] | np.ndarray
) -> dict[str, float]:
    """Latency of calls that overlapped a collection versus calls that did not.

    Returns counts, p50/p99 and means of each group (NaN for an empty group) and
    ``p50_cost_ms``, the difference of the two medians: what a collection adds to a
    typical call. Assumes calls are otherwise alike (same work per call).
    """
    lat = np.asarray(latencies_ms, dtype=np.float64)
    mask = np.asarray(overlapped, dtype=bool)
    if lat.shape != mask.shape:
        raise ValueError(f"latencies and overlap flags differ in length ({lat.size} vs {mask.size})")
    out: dict[str, float] = {}
    for name, group in (("with", lat[mask]), ("without", lat[~mask])):
        out[f"n_{name}"] = float(group.size)
        out[f"p50_{name}_ms"] = float(np.percentile(group, 50)) if group.size else _NAN
        out[f"p99_{name}_ms"] = float(np.percentile(group, 99)) if group.size else _NAN
        out[f"mean_{name}_ms"] = float(group.mean()) if group.size else _NAN
    out["p50_cost_ms"] = out["p50_with_ms"] - out["p50_without_ms"]
    return out
