"""Change-point detection on synthetic series: flat, step, steps, spike, ramp, short."""

from __future__ import annotations

import numpy as np
import pytest

from memwatch.stats.changepoint import detect_steps, robust_sigma


@pytest.mark.parametrize("seed", range(20))
def test_flat_noise_has_no_steps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    assert detect_steps(rng.normal(100e6, 2e6, 120)) == ()


def test_exactly_constant_series_has_no_steps() -> None:
    assert detect_steps([64e6] * 50) == ()


@pytest.mark.parametrize("seed", range(5))
def test_noisy_step_is_found_at_the_right_run(seed: int) -> None:
    rng = np.random.default_rng(seed)
    series = np.r_[rng.normal(100e6, 1e6, 40), rng.normal(130e6, 1e6, 25)]
    (step,) = detect_steps(series)
    assert step.index == 40
    assert step.before == pytest.approx(100e6, rel=0.02)
    assert step.after == pytest.approx(130e6, rel=0.02)
    assert step.relative == pytest.approx(0.3, abs=0.03)


def test_exact_step_up_and_back_down() -> None:
    steps = detect_steps([100.0] * 10 + [200.0] * 5 + [100.0] * 5)
    assert [(s.index, s.before, s.after) for s in steps] == [(10, 100.0, 200.0), (15, 200.0, 100.0)]


def test_step_in_the_last_runs_is_placed_on_its_first_run() -> None:
    (step,) = detect_steps([100.0] * 10 + [200.0] * 2)
    assert step.index == 10


def test_isolated_outliers_are_not_steps() -> None:
    rng = np.random.default_rng(11)
    series = rng.normal(100.0, 1.0, 100)
    series[30] = 160.0
    series[70] = 40.0
    assert detect_steps(series) == ()


def test_small_steps_below_min_change_are_ignored() -> None:
    series = [100.0] * 20 + [102.0] * 20  # 2 %, exact, so statistically obvious
    assert detect_steps(series, min_change=0.05) == ()
    assert [s.index for s in detect_steps(series, min_change=0.01)] == [20]


def test_ramp_gives_only_upward_steps() -> None:
    steps = detect_steps(np.linspace(100.0, 200.0, 60))
    assert steps
    assert all(s.after > s.before for s in steps)


def test_too_short_series() -> None:
    assert detect_steps([1.0, 100.0]) == ()
    assert detect_steps([]) == ()


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="finite"):
        detect_steps([1.0, float("nan"), 2.0, 3.0, 4.0, 5.0])
    with pytest.raises(ValueError, match="one-dimensional"):
        detect_steps(np.zeros((3, 3)))


def test_robust_sigma_ignores_a_step() -> None:
    rng = np.random.default_rng(2)
    noise = rng.normal(0.0, 1.0, 2000)
    assert robust_sigma(noise) == pytest.approx(1.0, rel=0.1)
    assert robust_sigma(noise + np.r_[np.zeros(1000), np.full(1000, 50.0)]) == pytest.approx(1.0, rel=0.1)
