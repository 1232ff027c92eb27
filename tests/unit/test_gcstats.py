"""GC statistics on synthetic callback event streams with known answers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from memwatch.stats.gcstats import (
    START,
    STOP,
    classify_forced,
    collections_from_rows,
    efficiency,
    estimate_promotions,
    latency_split,
    pair_events,
    pause_stats,
    percentile,
)

MS = 1_000_000  # ns per ms


def collection(
    t_ms: float,
    pause_ms: float,
    gen: int = 0,
    *,
    collected: int = 0,
    uncollectable: int = 0,
    young: int = 701,
    forced: bool = False,
    traced: tuple[int, int] = (-1, -1),
    duration_s: float = -1.0,
    candidates: int = -1,
) -> list[tuple[object, ...]]:
    """The two callback events of one collection, as the monitor records them."""
    t0 = round(t_ms * MS)
    t1 = t0 + round(pause_ms * MS)
    return [
        (START, t0, gen, young, forced, traced[0]),
        (STOP, t1, gen, collected, uncollectable, duration_s, candidates, traced[1]),
    ]


def stream(pauses_ms: list[float], gen: int = 0, spacing_ms: float = 1000.0) -> list[tuple[object, ...]]:
    events: list[tuple[object, ...]] = []
    for i, pause in enumerate(pauses_ms):
        events += collection(i * spacing_ms, pause, gen)
    return events


def test_known_pause_distribution_1_to_100_ms() -> None:
    cols = pair_events(stream([float(p) for p in range(1, 101)]))
    assert len(cols) == 100
    assert cols.unmatched == 0
    stats = pause_stats(cols.duration_ns / 1e6, wall_ms=100_000.0)
    assert stats["count"] == 100
    assert stats["total_ms"] == pytest.approx(5050.0)
    assert stats["mean_ms"] == pytest.approx(50.5)
    assert stats["p50_ms"] == pytest.approx(50.5)
    assert stats["p95_ms"] == pytest.approx(95.05)
    assert stats["p99_ms"] == pytest.approx(99.01)
    assert stats["max_ms"] == pytest.approx(100.0)
    assert stats["share"] == pytest.approx(0.0505)


def test_one_long_pause_among_many_short_ones_shows_in_p99_and_max_not_p50() -> None:
    pauses = [0.05] * 990 + [90.0] * 10
    stats = pause_stats(pair_events(stream(pauses)).duration_ns / 1e6, wall_ms=1e6)
    assert stats["p50_ms"] == pytest.approx(0.05)
    assert stats["p95_ms"] == pytest.approx(0.05)
    assert stats["max_ms"] == pytest.approx(90.0)
    # index 0.99 * 999 = 989.01 falls 1% of the way from the last short pause to the first long one
    assert stats["p99_ms"] == pytest.approx(0.05 + 0.01 * (90.0 - 0.05))


def test_no_pauses_read_as_zero_and_zero_wall_gives_zero_share() -> None:
    stats = pause_stats([], wall_ms=0.0)
    assert stats == {
        "count": 0.0,
        "total_ms": 0.0,
        "mean_ms": 0.0,
        "p50_ms": 0.0,
        "p95_ms": 0.0,
        "p99_ms": 0.0,
        "max_ms": 0.0,
        "share": 0.0,
    }
    assert pause_stats([5.0], wall_ms=0.0)["share"] == 0.0


def test_generations_forced_flags_and_counts_are_carried_per_collection() -> None:
    events = (
        collection(0, 1.0, 0, collected=10)
        + collection(5, 2.0, 1, collected=20)
        + collection(9, 30.0, 2, collected=300, uncollectable=2, forced=True)
    )
    cols = pair_events(events)
    assert cols.generation.tolist() == [0, 1, 2]
    assert cols.collected.tolist() == [10, 20, 300]
    assert cols.uncollectable.tolist() == [0, 0, 2]
    assert cols.forced.tolist() == [False, False, True]
    assert (cols.duration_ns / MS).tolist() == pytest.approx([1.0, 2.0, 30.0])
    assert cols.start_ns.tolist() == [0, 5 * MS, 9 * MS]
    assert not cols.from_interpreter.any()


def test_interpreter_duration_wins_over_callback_timestamps() -> None:
    # Python 3.15+ reports "duration" (seconds) in the stop info; the callback pair
    # also contains the cost of other callbacks, so the interpreter's figure is used.
    cols = pair_events(collection(0, 5.0, 2, duration_s=0.002) + collection(10, 3.0, 0))
    assert (cols.duration_ns / MS).tolist() == pytest.approx([2.0, 3.0])
    assert cols.from_interpreter.tolist() == [True, False]


@pytest.mark.parametrize(
    ("events", "paired", "unmatched"),
    [
        ([(STOP, 5, 0, 1, 0, -1.0, -1, -1)], 0, 1),  # stop without start
        ([(START, 0, 0, 1, False, -1)], 0, 1),  # start without stop
        ([(START, 0, 0, 1, False, -1), *collection(1, 1.0)], 1, 1),  # start, then a full pair
        ([(START, 0, 2, 1, False, -1), (STOP, 5, 0, 1, 0, -1.0, -1, -1)], 0, 2),  # generations differ
        (collection(0, 1.0) + collection(2, 1.0), 2, 0),
        ([], 0, 0),
    ],
)
def test_unmatched_events_are_counted_not_paired(
    events: list[tuple[object, ...]], paired: int, unmatched: int
) -> None:
    cols = pair_events(events)
    assert len(cols) == paired
    assert cols.unmatched == unmatched


def test_freed_bytes_only_where_tracemalloc_traced_both_ends() -> None:
    events = collection(0, 1.0, traced=(5000, 1000)) + collection(2, 1.0, traced=(-1, 900))
    freed = pair_events(events).freed_bytes
    assert freed[0] == 4000.0
    assert math.isnan(freed[1])


def test_promotions_estimated_from_young_count() -> None:
    events = (
        collection(0, 1, 0, young=700, collected=600)  # 100 survive into gen 1
        + collection(1, 1, 0, young=700, collected=650)  # 50 more
        + collection(2, 1, 1, young=700, collected=800)  # 700 + 150 examined, 50 survive into gen 2
        + collection(3, 1, 0, young=701, collected=701)
    )  # nothing survives
    assert estimate_promotions(pair_events(events)) == {"gen0->gen1": 150, "gen1->gen2": 50}


def test_promotions_use_interpreter_candidates_when_given() -> None:
    events = collection(0, 1, 0, young=10, collected=600, uncollectable=5, candidates=700)
    assert estimate_promotions(pair_events(events)) == {"gen0->gen1": 95, "gen1->gen2": 0}


def test_promotions_never_negative_and_full_collection_resets_the_pool() -> None:
    events = (
        collection(0, 1, 0, young=100, collected=500)
        + collection(1, 1, 0, young=300, collected=100)  # 200 into gen 1
        + collection(2, 1, 2, young=10, collected=0)  # full collection: gen 1 emptied
        + collection(3, 1, 1, young=50, collected=40)
    )  # only 50 examined, 10 survive
    assert estimate_promotions(pair_events(events)) == {"gen0->gen1": 200, "gen1->gen2": 10}


def test_latency_split_known_groups() -> None:
    lat = [1.0] * 90 + [11.0] * 10
    over = [False] * 90 + [True] * 10
    s = latency_split(lat, over)
    assert (s["n_with"], s["n_without"]) == (10, 90)
    assert s["p50_with_ms"] == 11.0
    assert s["p99_without_ms"] == 1.0
    assert s["mean_with_ms"] == 11.0
    assert s["p50_cost_ms"] == 10.0


def test_latency_split_empty_group_is_nan_and_length_mismatch_is_refused() -> None:
    s = latency_split([1.0, 2.0], [False, False])
    assert s["n_with"] == 0
    assert math.isnan(s["p50_with_ms"])
    assert math.isnan(s["p50_cost_ms"])
    assert s["p50_without_ms"] == 1.5
    with pytest.raises(ValueError, match="differ in length"):
        latency_split([1.0], [True, False])


def test_percentile_bounds_and_efficiency() -> None:
    assert percentile(np.arange(11.0), 50) == 5.0
    assert percentile([], 99) == 0.0
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 101)
    assert efficiency(1000, 4.0) == 250.0
    assert efficiency(1000, 0.0) == 0.0


def test_rows_recorded_by_a_monitor_give_the_same_collections_as_the_event_stream() -> None:
    rows: list[Any] = [
        (0, 2 * MS, 0, 701, False, 10, 0, -1.0, -1, -1, -1),
        (5 * MS, 35 * MS, 2, 120, True, 300, 2, -1.0, -1, 9000, 1000),
        (50 * MS, 60 * MS, 1, 701, False, 5, 0, 4 * MS, 42, -1, -1),
    ]
    cols = collections_from_rows(rows)
    events = (
        collection(0, 2.0, 0, collected=10)
        + collection(5, 30.0, 2, collected=300, uncollectable=2, young=120, forced=True, traced=(9000, 1000))
        + collection(50, 10.0, 1, collected=5, duration_s=0.004, candidates=42)
    )
    paired = pair_events(events)
    for name in (
        "generation",
        "start_ns",
        "stop_ns",
        "duration_ns",
        "collected",
        "uncollectable",
        "young_count",
        "forced",
        "from_interpreter",
    ):
        assert getattr(cols, name).tolist() == getattr(paired, name).tolist(), name
    assert (cols.duration_ns / MS).tolist() == pytest.approx([2.0, 30.0, 4.0])
    assert cols.freed_bytes[1] == 8000.0
    assert cols.candidates[2] == 42.0
    assert math.isnan(cols.candidates[0])
    assert len(collections_from_rows([])) == 0


@pytest.mark.parametrize(
    ("flags", "young", "threshold0", "expected"),
    [
        ([False, False, True], [701, 12, 701], None, [False, False, True]),  # flags only
        ([False, False, True], [701, 12, 701], 700, [False, True, True]),  # 3.11 trigger rule
        ([False, False], [2001, 2000], 2000, [False, True]),  # at the threshold: forced
        ([False, False], [5, 90000], 0, [True, True]),  # threshold0 0: never automatic
    ],
)
def test_classify_forced(
    flags: list[bool], young: list[int], threshold0: int | None, expected: list[bool]
) -> None:
    assert classify_forced(np.asarray(flags), np.asarray(young), threshold0).tolist() == expected


def test_collections_starting_inside_a_gc_collect_call_are_forced() -> None:
    flags = np.asarray([False, False, False, True])
    starts = np.asarray([100, 250, 400, 900])
    calls = [(240, 300), (50, 60), (380, 390)]  # unsorted; the last one ends before 400
    out = classify_forced(flags, np.asarray([701] * 4), None, start_ns=starts, forced_calls=calls)
    assert out.tolist() == [False, True, False, True]
    # overlapping calls from two threads: a long one covers a later start
    out = classify_forced(
        np.zeros(2, dtype=bool),
        np.asarray([701, 701]),
        None,
        start_ns=np.asarray([150, 500]),
        forced_calls=[(100, 600), (140, 160)],
    )
    assert out.tolist() == [True, True]


def test_every_event_is_either_paired_or_counted_unmatched() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    event = st.one_of(
        st.builds(lambda t, g: (START, t, g, 701, False, -1), st.integers(0, 10**6), st.integers(0, 2)),
        st.builds(lambda t, g: (STOP, t, g, 5, 0, -1.0, -1, -1), st.integers(0, 10**6), st.integers(0, 2)),
    )

    @settings(max_examples=200, deadline=None)
    @given(st.lists(event, max_size=40))
    def check(events: list[tuple[object, ...]]) -> None:
        cols = pair_events(events)
        assert 2 * len(cols) + cols.unmatched == len(events)
        assert (cols.collected == 5).all()

    check()
