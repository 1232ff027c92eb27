"""Mann-Whitney U, the bootstrap ratio CI and the change decision, on samples with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from memwatch.stats.compare import bootstrap_ratio_ci, decide_change, mann_whitney, min_p_value

BASE = [100.0, 101.0, 99.0, 100.0, 102.0, 98.0]


def test_mann_whitney_exact_small_samples() -> None:
    # Completely separated 3 vs 3: exact two-sided p = 2 / C(6, 3) = 0.1; U of current = 9.
    res = mann_whitney([1, 2, 3], [4, 5, 6])
    assert res.u == 9.0
    assert res.p_value == pytest.approx(0.1)
    assert mann_whitney([4, 5, 6], [1, 2, 3]).u == 0.0
    # 4 vs 4 separated: 2 / 70.
    assert mann_whitney([1, 2, 3, 4], [5, 6, 7, 8]).p_value == pytest.approx(2 / 70)


def test_mann_whitney_interleaved_is_not_significant() -> None:
    assert mann_whitney([1, 3, 5, 7], [2, 4, 6, 8]).p_value > 0.5


def test_mann_whitney_identical_constant_samples_give_p_one() -> None:
    res = mann_whitney([5.0] * 4, [5.0] * 4)
    assert (res.u, res.p_value) == (8.0, 1.0)


def test_mann_whitney_constant_but_different_samples_are_significant() -> None:
    # Ties within each side only; the normal approximation with tie correction.
    assert mann_whitney([100.0] * 5, [200.0] * 5).p_value < 0.01


def test_mann_whitney_refuses_empty() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        mann_whitney([], [1.0])


@pytest.mark.parametrize(
    ("n1", "n2", "expected"), [(1, 1, 1.0), (2, 2, 2 / 6), (3, 3, 0.1), (5, 5, 2 / 252), (0, 4, 1.0)]
)
def test_min_p_value(n1: int, n2: int, expected: float) -> None:
    assert min_p_value(n1, n2) == pytest.approx(expected)


def test_bootstrap_ci_brackets_the_true_ratio_and_is_deterministic() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(1000.0, 10.0, 30).tolist()
    cur = rng.normal(1500.0, 15.0, 30).tolist()
    ci = bootstrap_ratio_ci(base, cur, seed=7)
    assert ci is not None
    low, high = ci
    assert low < 1.5 < high
    assert high - low < 0.05
    assert bootstrap_ratio_ci(base, cur, seed=7) == ci
    assert bootstrap_ratio_ci(base, cur, seed=8) != ci


def test_bootstrap_ci_of_identical_constants_is_exactly_one() -> None:
    assert bootstrap_ratio_ci([4.0] * 5, [4.0] * 5) == (1.0, 1.0)


def test_bootstrap_ci_undefined_for_zero_baseline() -> None:
    assert bootstrap_ratio_ci([0.0, 0.0, 0.0], [1.0, 2.0, 3.0]) is None


def test_clear_regression_counts_when_all_three_agree() -> None:
    cur = [v * 2 for v in BASE]
    d = decide_change(BASE, cur, rel_tol=0.15, abs_floor=10.0)
    assert d.counts
    assert d.direction == "increase"
    assert d.significance == "significant"
    assert d.relative == pytest.approx(1.0)
    assert d.absolute == pytest.approx(100.0)
    assert d.p_value is not None
    assert d.p_value < 0.05
    assert d.ci is not None
    assert d.ci[0] > 1.5
    assert d.reasons == ()


def test_clear_improvement_counts_as_decrease() -> None:
    d = decide_change(BASE, [v / 2 for v in BASE], rel_tol=0.15, abs_floor=10.0)
    assert d.counts
    assert d.direction == "decrease"
    assert d.relative == pytest.approx(-0.5)


def test_within_tolerance_does_not_count() -> None:
    d = decide_change(BASE, [v * 1.10 for v in BASE], rel_tol=0.15, abs_floor=0.0)
    assert not d.counts
    assert "within the 15% tolerance" in d.reasons[0]


def test_below_absolute_floor_does_not_count_even_if_large_and_significant() -> None:
    d = decide_change(BASE, [v * 2 for v in BASE], rel_tol=0.15, abs_floor=1_000.0)
    assert not d.counts
    assert d.significance == "significant"
    assert any("below the absolute floor" in r for r in d.reasons)


def test_large_but_noisy_change_is_not_significant() -> None:
    base = [100.0, 300.0, 50.0, 250.0, 90.0, 400.0]
    cur = [300.0, 80.0, 420.0, 120.0, 330.0, 260.0]  # median +60 %, same spread
    d = decide_change(base, cur, rel_tol=0.15, abs_floor=0.0)
    assert d.relative is not None
    assert d.relative > 0.15
    assert not d.counts
    assert d.significance == "not significant"


def test_single_samples_decide_on_tolerance_and_floor() -> None:
    d = decide_change([100.0], [130.0], rel_tol=0.15, abs_floor=10.0)
    assert d.counts
    assert d.significance == "not applicable"
    assert d.p_value is None


def test_too_few_samples_to_be_significant_say_so() -> None:
    d = decide_change([100.0, 100.0], [130.0, 131.0], rel_tol=0.15, abs_floor=10.0)
    assert d.counts
    assert d.significance == "too few samples"
    assert "cannot reach significance" in d.reasons[0]


def test_no_change_never_counts() -> None:
    d = decide_change([5.0, 5.0, 5.0], [5.0, 5.0, 5.0], rel_tol=0.0, abs_floor=0.0)
    assert not d.counts
    assert d.direction == "none"


def test_zero_baseline_has_no_relative_change() -> None:
    d = decide_change([0.0], [2_000_000.0], rel_tol=0.15, abs_floor=1_000_000.0)
    assert d.relative is None
    assert d.counts
    assert not math.isnan(d.absolute)
