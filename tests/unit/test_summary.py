from __future__ import annotations

import math

import numpy as np
import pytest

from memwatch.stats.summary import (
    describe,
    growth,
    interval_summary,
    peak,
    percentiles,
    rate,
    smoothed_rate,
)


def test_describe_known_values() -> None:
    d = describe([1.0, 2.0, 3.0, 4.0, 100.0])
    assert d["n"] == 5
    assert d["mean"] == pytest.approx(22.0)
    assert d["median"] == 3.0
    assert d["stdev"] == pytest.approx(np.std([1, 2, 3, 4, 100], ddof=1))
    assert (d["min"], d["max"]) == (1.0, 100.0)


def test_describe_ignores_nan_and_handles_one_and_none() -> None:
    assert describe([5.0, float("nan")])["stdev"] == 0.0
    assert describe([5.0, float("nan")])["n"] == 1
    empty = describe([])
    assert empty["n"] == 0
    assert math.isnan(empty["mean"])


def test_percentiles_linear_interpolation() -> None:
    values = np.arange(101, dtype=float)  # 0..100: the q-th percentile is q
    assert percentiles(values, (0, 50, 90, 99.5)) == {"p0": 0.0, "p50": 50.0, "p90": 90.0, "p99.5": 99.5}


def test_percentiles_reject_out_of_range() -> None:
    with pytest.raises(ValueError, match="outside"):
        percentiles([1.0], (101,))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.0, 5.0, 5.0, 2.0], (5.0, 1)),
        ([float("nan"), 3.0], (3.0, 1)),
    ],
)
def test_peak_first_index(values: list[float], expected: tuple[float, int]) -> None:
    assert peak(values) == expected


def test_peak_of_nothing() -> None:
    value, index = peak([])
    assert math.isnan(value)
    assert index == -1


def test_growth_is_end_to_end() -> None:
    assert growth([10.0, 50.0, 30.0]) == 20.0
    assert growth([float("nan"), 10.0, 15.0, float("nan")]) == 5.0


def test_rate_of_a_linear_series_is_its_slope() -> None:
    t = np.linspace(0, 10, 101)
    r = rate(t, 3.0 * t + 7.0)
    assert np.allclose(r, 3.0)


def test_rate_short_and_mismatched() -> None:
    assert rate([0.0], [5.0]).tolist() == [0.0]
    with pytest.raises(ValueError, match="differ"):
        rate([0.0, 1.0], [1.0])


def test_smoothed_rate_sees_the_slope_through_jitter() -> None:
    t = np.arange(0, 10, 0.01)
    jitter = np.random.default_rng(7).choice([-4096.0, 0.0, 4096.0], size=t.size)  # page-sized noise
    series = 1e6 * t + jitter  # 1 MB/s under +-4 KiB of jitter
    r = smoothed_rate(t, series, window=1.0)
    assert np.allclose(r[100:-100], 1e6, rtol=0.02)
    assert not np.allclose(rate(t, series)[100:-100], 1e6, rtol=0.02)  # the raw rate does not


def test_interval_summary_step() -> None:
    t = np.arange(10, dtype=float)
    v = np.array([0, 0, 0, 10, 50, 30, 30, 0, 0, 0], dtype=float)
    s = interval_summary(t, v, 3.0, 6.0)
    assert s == {"start_memory": 10.0, "end_memory": 30.0, "peak": 50.0, "delta": 20.0, "samples": 4.0}


def test_interval_summary_between_samples_uses_neighbours() -> None:
    t = np.array([0.0, 1.0, 2.0])
    v = np.array([5.0, 7.0, 9.0])
    s = interval_summary(t, v, 1.2, 1.5)
    assert s["samples"] == 0
    assert (s["start_memory"], s["end_memory"], s["peak"], s["delta"]) == (7.0, 7.0, 7.0, 0.0)


def test_interval_summary_entry_is_the_last_sample_before_the_start() -> None:
    t = np.array([0.0, 1.0, 2.0, 3.0])
    v = np.array([100.0, 100.0, 10.0, 10.0])  # freed right after the phase began at 1.5
    s = interval_summary(t, v, 1.5, 3.0)
    assert (s["start_memory"], s["end_memory"], s["peak"], s["delta"]) == (100.0, 10.0, 100.0, -90.0)
    before_any = interval_summary(t, v, -1.0, 0.5)
    assert before_any["start_memory"] == 100.0
