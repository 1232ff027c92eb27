"""The findings of the rounds and the one verdict decided from them, on synthetic rounds:
no operation runs, no memory is allocated."""

from __future__ import annotations

import numpy as np
import pytest

from memwatch.config.schema import SeverityBytes
from memwatch.leaks.attribution import Attribution
from memwatch.leaks.engine import Measurement, Plan, _choose_batch, evaluate
from memwatch.leaks.verdict import build_report, decide
from memwatch.stats.trend import assess

NAMES = ("py_blocks", "native_heap", "fds", "threads", "rss")
ROUNDS = 12
BATCH = 100
THRESHOLDS = SeverityBytes().model_dump()


def measurement(**series: np.ndarray) -> Measurement:
    """Rounds of BATCH calls; signals not given stay flat."""
    data = np.zeros((ROUNDS + 1, len(NAMES)))
    data[:, NAMES.index("py_blocks")] = 50_000.0
    data[:, NAMES.index("native_heap")] = 8e6
    data[:, NAMES.index("fds")] = 12.0
    data[:, NAMES.index("threads")] = 3.0
    data[:, NAMES.index("rss")] = 5e7
    for name, values in series.items():
        data[:, NAMES.index(name)] = values
    x = np.arange(ROUNDS + 1, dtype=float) * BATCH
    return Measurement(
        names=NAMES,
        data=data,
        x=x,
        rounds=ROUNDS,
        batch=BATCH,
        calls=ROUNDS * BATCH,
        warmup_calls=500,
        seconds_per_call=1e-6,
    )


R = np.arange(ROUNDS + 1, dtype=float)


def test_growing_blocks_is_a_python_leak() -> None:
    m = measurement(py_blocks=50_000 + 200 * R, rss=5e7 + 40_000 * R)
    assert evaluate(m, Plan(), final=False)
    assert (m.finding, m.signal) == ("growing", "py_blocks")
    d = decide(m, None, budget=0, thresholds=THRESHOLDS)
    assert (d.verdict, d.deciding, d.kind) == ("leak", "py_blocks", "python")
    assert "Theil–Sen 2 blocks per call, 95% CI 2 blocks to 2 blocks" in d.reason


def test_native_heap_alone_is_a_native_leak() -> None:
    m = measurement(native_heap=8e6 + 204_800 * R)
    assert evaluate(m, Plan(), final=False)
    assert (m.finding, m.signal) == ("growing", "native_heap")
    report = build_report("t:f", m, None, [], budget=1_000_000, duration=0.1, thresholds=THRESHOLDS)
    assert (report.verdict, report.kind) == ("leak", "native")
    assert report.bytes_per_iteration == pytest.approx(2048)
    assert report.severity == "trace"
    assert not report.passed  # 2 MB per 1,000 calls > 1 MB
    assert any("native leak" in note for note in report.notes)


def test_rss_alone_never_decides() -> None:
    m = measurement(rss=5e7 + 1e6 * R)
    assert evaluate(m, Plan(), final=False)
    assert m.finding == "settled"
    report = build_report("t:f", m, None, [], budget=1_000_000, duration=0.1, thresholds=THRESHOLDS)
    assert report.verdict == "clean"
    rss = report.growth_per_iteration["rss"]
    assert rss.role == "confirms"
    assert not rss.decided


@pytest.mark.parametrize(
    "blocks",
    [
        50_000 + 300 * np.minimum(R, 3),  # plateau: a cache filled early
        50_000 + np.where(R >= 6, 5_000.0, 0.0),  # a one-time step
        50_000 + (R % 3) * 400,  # sawtooth
    ],
)
def test_bounded_patterns_are_clean(blocks: np.ndarray) -> None:
    m = measurement(py_blocks=blocks)
    assert evaluate(m, Plan(), final=False)
    assert m.finding == "settled"
    assert decide(m, None, budget=0, thresholds=THRESHOLDS).verdict == "clean"


def test_irregular_growth_waits_then_is_inconclusive() -> None:
    # Rises on three stretches out of four: neither settled nor a leak.
    blocks = 50_000 + np.array([0, 0, 0, 90, 95, 100, 100, 100, 100, 190, 195, 280, 290], float)
    m = measurement(py_blocks=blocks)
    assert assess(m.series("py_blocks"), m.calls_axis(), min_rise=1.0).shape == "irregular"
    assert not evaluate(m, Plan(), final=False)
    assert evaluate(m, Plan(), final=True)
    assert (m.finding, m.signal) == ("irregular", "py_blocks")
    d = decide(m, None, budget=1_000_000, thresholds=THRESHOLDS)
    assert d.verdict == "inconclusive"
    assert "more iterations" in d.reason


def test_confirmation_window_overturns_a_filled_structure() -> None:
    m = measurement(py_blocks=50_000 + 200 * R)
    assert evaluate(m, Plan(), final=False)
    flat = np.full(8, 60_000.0)
    window = Attribution(
        batch=200,
        window={"py_heap": flat, "py_blocks": flat},
        trends={"py_heap": assess(flat), "py_blocks": assess(flat)},
    )
    report = build_report("t:f", m, window, [], budget=1_000_000, duration=0.1, thresholds=THRESHOLDS)
    assert report.verdict == "clean"
    assert not report.leak_detected
    assert "stopped in the confirmation window" in report.reason


def test_window_gives_the_python_bytes() -> None:
    m = measurement(py_blocks=50_000 + 200 * R)
    assert evaluate(m, Plan(), final=False)
    heap = 1e6 + 300.0 * 200 * np.arange(8)
    blocks = 50_000 + 2.0 * 200 * np.arange(8)
    axis = np.arange(8) * 200.0
    window = Attribution(
        batch=200,
        window={"py_heap": heap, "py_blocks": blocks},
        trends={"py_heap": assess(heap, axis), "py_blocks": assess(blocks, axis)},
    )
    report = build_report("t:f", m, window, [], budget=1_000_000, duration=0.1, thresholds=THRESHOLDS)
    assert report.verdict == "growth"  # 300 kB per 1,000 calls, within 1 MB: passes
    assert report.kind == "python"
    assert report.bytes_per_iteration == pytest.approx(300.0)
    assert report.passed
    assert report.leak_detected
    report.raise_for_leaks()
    over = build_report("t:f", m, window, [], budget=299_999, duration=0.1, thresholds=THRESHOLDS)
    assert (over.verdict, over.passed, over.failed) == ("leak", False, True)
    edge = build_report("t:f", m, window, [], budget=300_000, duration=0.1, thresholds=THRESHOLDS)
    assert edge.verdict == "growth"  # exactly the budget is within it


def test_fds_with_blocks_is_an_fd_leak_whatever_the_budget() -> None:
    m = measurement(py_blocks=50_000 + 300 * R, fds=12.0 + 10 * R)
    assert evaluate(m, Plan(), final=False)
    d = decide(m, None, budget=10**12, thresholds=THRESHOLDS)
    assert (d.verdict, d.deciding, d.kind, d.severity) == ("leak", "fds", "fds", "critical")
    assert "name the leak" in d.notes[0]


def test_too_few_rounds_is_inconclusive_with_the_shortfall() -> None:
    m = measurement()
    m.shortfall = "only 3 rounds of about 100 calls fit in the time budget of 1 s"
    d = decide(m, None, budget=1_000_000, thresholds=THRESHOLDS)
    assert (d.verdict, d.reason) == ("inconclusive", m.shortfall)
    report = build_report("t:f", m, None, [], budget=1_000_000, duration=0.1, thresholds=THRESHOLDS)
    assert (report.passed, report.failed) == (False, False)
    report.raise_for_leaks()  # no leak was found: nothing to raise


@pytest.mark.parametrize(
    ("per_call", "plan", "expected"),
    [
        (1e-7, Plan(), 10_000),  # 1 ms of 0.1 µs calls
        (3e-7, Plan(), 2_000),  # 3,333 calls in 1 ms: down to the 1-2-5 series
        (1e-3, Plan(), 100),  # slow calls: 16 rounds must reach min_calls (1,000)
        (4e-3, Plan(), 50),  # ... unless half the budget cannot afford it
        (1e-3, Plan(min_calls=0), 10),  # at least 10
        (1e-6, Plan(iterations=160), 10),  # the cap leaves 16 rounds of 10
        (1e-6, Plan(iterations=40), 2),
        (0.05, Plan(time_budget=1.0), 1),  # the budget wins
    ],
)
def test_batch_size(per_call: float, plan: Plan, expected: int) -> None:
    assert _choose_batch(per_call, plan) == expected


def _linear(n: int, slope: float) -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(n, dtype=np.float64) * 100.0
    return x, slope * x


@pytest.mark.parametrize(
    ("name", "series", "slowing"),
    [
        ("linear", _linear(12, 2.0)[1], False),
        ("linear with steps", np.floor(np.arange(12) * 100.0 / 30.0), False),
        ("concave (1 - exp)", 500.0 * (1 - np.exp(-np.arange(12) / 4.0)), True),
        ("logarithmic", 100.0 * np.log1p(np.arange(12) * 2.0), True),
        ("square root: slows, but less than half", 40.0 * np.sqrt(np.arange(12) * 100.0), False),
        ("plateau", np.minimum(np.arange(12), 6) * 50.0, True),
        ("convex (speeding up)", (np.arange(12) ** 2) * 3.0, False),
        ("step then linear", np.r_[np.zeros(3), 400.0 + np.arange(9) * 200.0], False),
        ("sawtooth", np.tile([0.0, 100.0, 200.0, 300.0], 3), False),
    ],
)
def test_slowing_tells_decelerating_from_steady_growth(name: str, series: np.ndarray, slowing: bool) -> None:
    from memwatch.leaks.engine import _slowing

    x = np.arange(series.size, dtype=np.float64) * 100.0
    found = _slowing(series.astype(np.float64), x)
    assert (found is not None) is slowing, (name, found)
    if found is not None:
        early, late = found
        assert late < 0.5 * early


def test_decelerating_growth_is_inconclusive_with_the_budget_that_would_decide() -> None:
    m = measurement()
    m.finding, m.signal, m.slowing = "decelerating", "py_blocks", (3.1, 0.4)
    m.calls, m.warmup_calls, m.seconds = 31, 10, 7.0
    d = decide(m, None, budget=1_000_000, thresholds=THRESHOLDS)
    assert d.verdict == "inconclusive"
    assert d.reason.startswith(
        "41 calls in 7 s; growth slowing from 3.1 blocks to 0.4 blocks per call (py_blocks)"
    )
    assert d.reason.endswith("a time_budget of about 40 s would decide")


def test_growth_seen_in_too_few_calls_is_inconclusive() -> None:
    m = measurement(py_blocks=100.0 + 2.0 * R)
    m.finding, m.signal = "few_calls", "py_blocks"
    m.trends = {"py_blocks": assess(m.series("py_blocks"), m.calls_axis())}
    m.calls, m.warmup_calls, m.seconds = 40, 12, 7.0
    d = decide(m, None, budget=1_000_000, thresholds=THRESHOLDS)
    assert d.verdict == "inconclusive"
    assert d.reason.startswith("52 calls in 7 s: too few to tell steady growth (py_blocks ")
    assert d.reason.endswith("a time_budget of about 130 s would decide")


def test_a_final_round_below_half_the_minimum_calls_is_few_calls() -> None:
    m = measurement(py_blocks=100.0 + 2.0 * R)
    assert evaluate(m, Plan(min_calls=10**9), final=True, out_of_time=True)
    assert (m.finding, m.signal) == ("few_calls", "py_blocks")
    m = measurement(py_blocks=100.0 + 2.0 * R)
    assert evaluate(m, Plan(min_calls=10**9), final=True)  # a call or round cap: sized on purpose
    assert m.finding == "growing"
    m = measurement(py_blocks=100.0 + 2.0 * R)
    assert not evaluate(m, Plan(min_calls=10**9), final=False)  # not final: measure on


def test_a_steady_late_half_after_a_warm_up_is_judged_only_with_enough_calls() -> None:
    """A cache filling fast, then steady growth: the late half alone decides, when it holds
    half the minimum calls; with fewer (the budget ran out) it may still be the cache."""
    series = 50_000.0 + 8000.0 * (1 - np.exp(-R / 1.5)) + 100.0 * R  # 1,200 calls, 600 in the late half
    m = measurement(py_blocks=series)
    assert evaluate(m, Plan(min_calls=1_200), final=True, out_of_time=True)
    assert m.finding == "growing"
    m = measurement(py_blocks=series)
    assert evaluate(m, Plan(min_calls=2_000), final=True, out_of_time=True)
    assert m.finding == "decelerating"
    m = measurement(py_blocks=series)
    assert evaluate(m, Plan(min_calls=2_000), final=True)  # a call cap: sized on purpose
    assert m.finding == "growing"


@pytest.mark.parametrize(
    ("name", "series", "finding"),
    [
        ("a line", 50_000.0 + 30.0 * R, "growing"),
        ("a line with noise", 50_000.0 + 30.0 * R + np.tile([0.0, 7.0, -5.0, 3.0], 4)[: R.size], "growing"),
        # slows, but less than DECELERATION: either a leak or a cache filling ever more slowly
        ("square root", 50_000.0 + 400.0 * np.sqrt(R), "few_calls"),
    ],
)
def test_growth_cut_short_by_the_budget_is_a_leak_only_when_steady(
    name: str, series: np.ndarray, finding: str
) -> None:
    """Between half the minimum calls and the minimum, out of time: a line is growth, a
    curve bending over is not decided (its verdict would flip with the number of calls)."""
    m = measurement(py_blocks=series)  # 1,200 calls
    assert evaluate(m, Plan(min_calls=2_000), final=True, out_of_time=True)
    assert m.finding == finding, name
    if finding == "few_calls":
        d = decide(m, None, budget=1_000_000, thresholds=THRESHOLDS)
        assert d.verdict == "inconclusive"
        # the minimum calls at the same pace: 2,000 / 1,200 of the seconds, over the rounds' share
        assert d.reason.endswith("would decide"), d.reason


@pytest.mark.parametrize(
    ("name", "series", "finding"),
    [
        ("linear, 12 rounds", 50_000.0 + 30.0 * R, "growing"),
        ("concave, 12 rounds", 50_000.0 + 3000.0 * (1 - np.exp(-R / 3.0)), ""),
        ("step, 12 rounds", 50_000.0 + 500.0 * (R >= 6), "settled"),
        ("sawtooth, 12 rounds", 50_000.0 + 100.0 * (R % 4), "settled"),
    ],
)
def test_few_rounds_at_the_time_limit(name: str, series: np.ndarray, finding: str) -> None:
    """At the end of the budget with few points: a line is growth, a decelerating curve is
    not (it is 'decelerating' or, once levelled, settled), a step and a sawtooth are settled."""
    m = measurement(py_blocks=series)
    assert evaluate(m, Plan(min_calls=0), final=True, out_of_time=True)
    if finding:
        assert m.finding == finding, (name, m.finding)
    else:
        assert m.finding in ("decelerating", "settled"), (name, m.finding)


@pytest.mark.parametrize(
    ("batch", "iterations"), [(6, 100), (1, 5), (10, 160), (6250, 100_000), (1, 7), (3, 49)]
)
def test_round_sizes_make_exactly_the_iterations_asked_for(batch: int, iterations: int) -> None:
    from memwatch.leaks.engine import _round_sizes

    sizes = _round_sizes(batch, Plan(iterations=iterations))
    assert int(sizes.sum()) == iterations
    assert sizes.min() >= 1
    assert len(sizes) <= Plan().max_rounds
