"""Change-point candidates over long series: the same answers as detect_steps, found faster."""

from __future__ import annotations

import numpy as np
import pytest

from memwatch.dashboard.steps import FULL_POINTS, cannot_step, find_steps
from memwatch.stats.changepoint import detect_steps


def noisy(n: int, level: float = 100.0, rel: float = 0.01, seed: int = 0) -> np.ndarray:
    return level * (1.0 + np.random.default_rng(seed).normal(0.0, rel, n))


@pytest.mark.parametrize("at", [37, 4_321, 9_990])
def test_a_triple_step_in_10000_runs_is_found_on_its_run(at: int) -> None:
    y = noisy(10_000)
    y[at:] *= 3.0
    steps = find_steps(y)
    assert [s.index for s in steps] == [at]
    assert steps[0].after / steps[0].before == pytest.approx(3.0, rel=0.02)


def test_noise_and_a_slow_drift_have_no_step() -> None:
    assert find_steps(noisy(10_000, rel=0.02)) == []
    drift = noisy(10_000, seed=1) * (1.0 + 0.10 * np.arange(10_000) / 10_000)
    assert find_steps(drift) == []


def test_two_steps_far_apart_are_both_found() -> None:
    y = noisy(8_000, seed=2)
    y[2_000:] *= 1.5
    y[6_000:] *= 0.5
    assert [s.index for s in find_steps(y)] == [2_000, 6_000]


@pytest.mark.parametrize("seed", range(5))
def test_short_series_are_detect_steps_unchanged(seed: int) -> None:
    y = noisy(FULL_POINTS, seed=seed)
    y[500 + seed * 10 :] *= 1.3
    assert find_steps(y) == list(detect_steps(y))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([100.0, 104.9, 100.0, 102.0], True),  # range under 5 % of the minimum: no boundary can pass
        ([100.0, 105.1, 100.0, 102.0], False),
        ([-1.0, -1.0, -1.0], False),  # not positive: the shortcut does not apply
        ([0.0, 0.0, 0.0], False),
    ],
)
def test_cannot_step_only_when_no_boundary_could_pass(values: list[float], expected: bool) -> None:
    assert cannot_step(np.asarray(values), 0.05) is expected


def test_cannot_step_never_hides_a_step_detect_steps_finds() -> None:
    rng = np.random.default_rng(3)
    for _ in range(300):
        y = 100.0 * (1.0 + rng.normal(0.0, rng.uniform(0.001, 0.03), 60))
        y[rng.integers(6, 54) :] *= rng.uniform(1.0, 1.08)
        if cannot_step(y, 0.05):
            assert detect_steps(y) == ()
