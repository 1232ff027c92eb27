"""Scenario arithmetic on synthetic data: searches, recovery, trends, stability score."""

from __future__ import annotations

import math

import numpy as np
import pytest

from memwatch.stress.analysis import (
    bisect_breaking_point,
    growth_trend,
    judge_interval,
    linear_breaking_point,
    max_deviation,
    recovery_ratio,
    stability_score,
)


def threshold(limit: float):
    """A probe that fits strictly below ``limit``, counting its calls."""
    calls: list[int] = []

    def probe(load: int) -> bool:
        calls.append(load)
        return load < limit

    return probe, calls


@pytest.mark.parametrize("limit", [2, 3, 100, 137, 1000, 65_537])
def test_bisection_finds_exact_breaking_point(limit: int) -> None:
    probe, calls = threshold(limit)
    search = bisect_breaking_point(probe, start=1, max_load=1_000_000)
    assert search.breaking_point == limit
    assert search.last_ok == limit - 1
    assert len(calls) == len(search.trials)
    # doubling then halving: about 2 * log2(limit) trials
    assert len(calls) <= 2 * math.ceil(math.log2(limit)) + 2


def test_bisection_relative_resolution_stops_early() -> None:
    probe, calls = threshold(50_000)
    exact = len(bisect_breaking_point(threshold(50_000)[0], start=1, max_load=10**6).trials)
    search = bisect_breaking_point(probe, start=1, max_load=10**6, relative=0.01)
    assert search.last_ok is not None
    assert search.breaking_point is not None
    assert search.last_ok < 50_000 <= search.breaking_point
    assert search.breaking_point - search.last_ok <= 0.01 * search.breaking_point
    assert len(calls) < exact


def test_bisection_when_first_load_fails() -> None:
    probe, _ = threshold(5)
    search = bisect_breaking_point(probe, start=64, max_load=1000)
    assert search.breaking_point == 5
    assert search.last_ok == 4


def test_bisection_when_nothing_fails() -> None:
    probe, calls = threshold(math.inf)
    search = bisect_breaking_point(probe, start=3, max_load=100)
    assert search.breaking_point is None
    assert search.last_ok == 100
    assert calls == [3, 6, 12, 24, 48, 96, 100]


def test_bisection_when_even_one_fails() -> None:
    probe, _ = threshold(0.5)
    search = bisect_breaking_point(probe, start=1, max_load=10)
    assert (search.breaking_point, search.last_ok) == (1, None)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": 0, "max_load": 10},
        {"start": 5, "max_load": 4},
        {"start": 1, "max_load": 4, "resolution": 0},
        {"start": 1, "max_load": 4, "relative": 1.0},
    ],
)
def test_bisection_rejects_bad_ranges(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        bisect_breaking_point(lambda load: True, **kwargs)  # type: ignore[arg-type]


def test_linear_ramp_and_its_cost_against_bisection() -> None:
    probe, calls = threshold(137)
    search = linear_breaking_point(probe, start=10, step=10, max_load=1000)
    assert (search.breaking_point, search.last_ok) == (140, 130)
    assert len(calls) == 14
    none = linear_breaking_point(threshold(math.inf)[0], start=1, step=5, max_load=20)
    assert none.breaking_point is None
    assert none.last_ok == 16
    with pytest.raises(ValueError):
        linear_breaking_point(probe, start=1, step=0, max_load=5)


@pytest.mark.parametrize(
    ("base", "peak", "after", "expected"),
    [
        (100.0, 200.0, 100.0, 1.0),
        (100.0, 200.0, 150.0, 0.5),
        (100.0, 200.0, 200.0, 0.0),
        (100.0, 200.0, 90.0, 1.0),  # fell below the baseline: clipped
        (100.0, 200.0, 250.0, 0.0),  # grew after the spike: clipped
        (100.0, 100.5, 100.0, None),  # spike below min_spike: not judged
        (math.nan, 200.0, 100.0, None),
    ],
)
def test_recovery_ratio(base: float, peak: float, after: float, expected: float | None) -> None:
    assert recovery_ratio(base, peak, after, min_spike=1.0) == expected


def test_growth_trend_recovers_known_slope_with_interval() -> None:
    rng = np.random.default_rng(7)
    t = np.linspace(0, 100, 400)
    y = 50e6 + 2000.0 * t + rng.normal(0, 20_000, t.size)
    trend = growth_trend(t, y)
    assert trend.low <= 2000.0 <= trend.high
    assert abs(trend.slope - 2000.0) < 200
    assert trend.n == 400


def test_growth_trend_flat_and_robust_to_outliers() -> None:
    t = np.arange(100.0)
    y = np.full(100, 80e6)
    y[::10] += 50e6  # GC-like spikes on 10% of the samples
    trend = growth_trend(t, y)
    assert trend.slope == 0.0
    assert judge_interval(trend.low, trend.high, 1e6) == "pass"


def test_growth_trend_too_few_points_is_nan() -> None:
    trend = growth_trend([0.0, 1.0], [1.0, 2.0])
    assert math.isnan(trend.slope)
    assert trend.n == 2
    assert math.isnan(growth_trend([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]).slope)
    nan_dropped = growth_trend([0.0, 1.0, 2.0, 3.0], [0.0, math.nan, 2.0, 3.0])
    assert nan_dropped.n == 3
    assert nan_dropped.slope == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.1, 0.5, "pass"),
        (2.0, 3.0, "fail"),
        (0.5, 1.5, "inconclusive"),
        (math.nan, 1.0, "not-judged"),
    ],
)
def test_judge_interval(low: float, high: float, expected: str) -> None:
    assert judge_interval(low, high, 1.0) == expected


def test_max_deviation() -> None:
    assert max_deviation([100.0, 100.0, 100.0]) == 0.0
    assert max_deviation([100.0, 100.0, 110.0, 95.0]) == pytest.approx(0.10)
    assert math.isnan(max_deviation([]))
    assert max_deviation([0.0, 0.0]) == 0.0
    assert max_deviation([0.0, 0.0, 1.0]) == math.inf


def test_stability_score() -> None:
    assert stability_score([(100.0, 10.0, 10.0), (100.0, 10.0, 10.0)]) == 1.0
    assert stability_score([(100.0, 10.0, 60.0), (100.0, 10.0, 10.0)]) == pytest.approx(0.75)
    assert stability_score([(100.0, 10.0, 500.0)]) == 0.0  # clipped at 0
    assert stability_score([(100.0, 10.0, 0.0)]) == 1.0  # gave back more than it took
    assert stability_score([]) == 0.0
    assert stability_score([(0.0, 1.0, 2.0)]) == 0.0  # zero-size cycles are ignored
