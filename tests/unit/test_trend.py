"""The trend tests on synthetic series with known answers (no real allocation)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memwatch.stats.trend import assess, difference_noise, mann_kendall, stretch_levels, theil_sen

N = 24
X = np.arange(N, dtype=float)
RNG = np.random.default_rng(20261121)


def flat() -> np.ndarray:
    return np.full(N, 1000.0)


def linear() -> np.ndarray:
    return 1000.0 + 5.0 * X


def plateau() -> np.ndarray:
    return 1000.0 + np.minimum(X, 6.0) * 50.0


def step() -> np.ndarray:
    return 1000.0 + np.where(X >= 11, 400.0, 0.0)


def sawtooth() -> np.ndarray:
    return 1000.0 + (X % 5) * 40.0


def noisy_flat() -> np.ndarray:
    return 1000.0 + RNG.normal(0.0, 20.0, N)


def noisy_linear() -> np.ndarray:
    return 1000.0 + 10.0 * X + RNG.normal(0.0, 5.0, N)


def tiny_slope() -> np.ndarray:
    # One block every other round on an exact counter: 0.5 per round.
    return 1000.0 + np.floor(X / 2.0)


@pytest.mark.parametrize(
    ("make", "growing", "shape"),
    [
        (flat, False, "flat"),
        (linear, True, "growing"),
        (plateau, False, "plateau"),
        (step, False, "step"),
        (sawtooth, False, "sawtooth"),
        (noisy_flat, False, None),
        (noisy_linear, True, "growing"),
        (tiny_slope, True, "growing"),
    ],
)
def test_known_answers(make, growing, shape) -> None:
    trend = assess(make(), min_rise=0.5)
    assert trend.growing is growing, trend
    if shape is not None:
        assert trend.shape == shape, trend


def test_noisy_flat_is_never_growing_across_seeds() -> None:
    rng = np.random.default_rng(7)
    alarms = sum(assess(1e6 + rng.normal(0, 4096, N), min_rise=4096).growing for _ in range(200))
    assert alarms == 0


def test_linear_slope_and_interval() -> None:
    slope, intercept, low, high = theil_sen(linear())
    assert slope == pytest.approx(5.0)
    assert intercept == pytest.approx(1000.0)
    assert low == pytest.approx(5.0)
    assert high == pytest.approx(5.0)
    noisy = noisy_linear()
    slope, _, low, high = theil_sen(noisy)
    assert low < slope < high
    assert low < 10.0 < high


def test_interval_holds_the_true_slope_most_of_the_time() -> None:
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(100):
        _slope, _, low, high = theil_sen(3.0 * X + rng.normal(0, 4.0, N))
        covered += low <= 3.0 <= high
    assert covered >= 85  # nominal 95%


def test_mann_kendall() -> None:
    tau, p = mann_kendall(linear())
    assert tau == pytest.approx(1.0)
    assert p < 1e-6
    assert mann_kendall(flat()) == (0.0, 1.0)
    tau, p = mann_kendall(linear()[::-1])
    assert tau == pytest.approx(-1.0)


def test_difference_noise_ignores_trend_and_single_step() -> None:
    assert difference_noise(linear()) == 0.0
    assert difference_noise(step()) == 0.0
    assert difference_noise(noisy_flat()) == pytest.approx(20.0, rel=0.5)


def test_stretch_levels() -> None:
    levels = stretch_levels(linear(), 4)
    assert levels.shape == (4,)
    assert np.all(np.diff(levels) == pytest.approx(30.0))


def test_shrinking_and_short_series() -> None:
    assert assess(linear()[::-1]).shape == "shrinking"
    short = assess(np.array([1.0, 2.0]))
    assert not short.growing
    empty = assess(np.array([]))
    assert empty.n == 0
    assert not empty.growing


def test_min_rise_keeps_tiny_exact_growth_out() -> None:
    # +1 block per stretch is a rise of 1.0: not above a floor of 1.0.
    series = 1000.0 + np.repeat(np.arange(4.0), 6)
    assert not assess(series, min_rise=1.0).growing
    assert assess(series, min_rise=0.5).growing


# Properties over many generated series (hypothesis).


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(8, 48), slope=st.floats(2.0, 1e6), noise=st.floats(0.0, 0.24), seed=st.integers(0, 2**16)
)
def test_steady_growth_with_small_noise_is_always_growing(
    n: int, slope: float, noise: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = np.arange(n, dtype=float)
    y = 1e6 + slope * x + rng.uniform(-noise, noise, n) * slope
    assert assess(y, min_rise=1.0).growing


@settings(max_examples=150, deadline=None)
@given(n=st.integers(8, 48), height=st.floats(1.0, 1e6), fill=st.floats(0.0, 0.5))
def test_a_structure_that_fills_then_stays_is_never_growing(n: int, height: float, fill: float) -> None:
    x = np.arange(n, dtype=float)
    cap = max(1.0, fill * n)  # full by the middle of the run at the latest
    y = 1e3 + height * np.minimum(x, cap) / cap
    assert not assess(y, min_rise=0.5).growing


@settings(max_examples=150, deadline=None)
@given(n=st.integers(8, 48), at=st.integers(1, 47), jump=st.floats(1.0, 1e7))
def test_a_single_step_is_never_growing(n: int, at: int, jump: float) -> None:
    x = np.arange(n, dtype=float)
    y = 1e3 + np.where(x >= min(at, n - 1), jump, 0.0)
    assert not assess(y, min_rise=0.5).growing


@settings(max_examples=100, deadline=None)
@given(n=st.integers(8, 48), x0=st.floats(0.0, 1e6), scale=st.floats(1.0, 1e4), seed=st.integers(0, 2**16))
def test_uneven_spacing_still_gives_the_slope_per_unit(n: int, x0: float, scale: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = x0 + np.cumsum(rng.uniform(0.75, 1.25, n)) * scale
    trend = assess(3.0 * x, x)
    assert trend.slope == pytest.approx(3.0)
    assert trend.noise == pytest.approx(0.0, abs=1e-6 * scale)
