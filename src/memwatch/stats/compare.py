"""Is the difference between a baseline sample and a current sample real?

Pure functions on sequences of numbers (no I/O), tested on synthetic samples.

- :func:`mann_whitney`: the Mann–Whitney U rank test (two-sided). Assumes the
  measurements within each sample are independent and identically distributed;
  it tests whether one sample tends to give larger values, making no assumption
  about the shape of the distribution. Ties get the usual mid-rank correction
  (scipy computes the p-value: exact for small samples without ties, the normal
  approximation otherwise).
- :func:`bootstrap_ratio_ci`: a percentile bootstrap confidence interval of
  ``median(current) / median(baseline)``; resampling is seeded, so the same
  inputs always give the same interval.
- :func:`decide_change`: a change counts only when the relative tolerance, the
  absolute floor and — when both sides have repeated samples — the significance
  test all agree. With samples so small that no outcome could be significant
  (``min_p_value >= alpha``, e.g. 2 vs 2), the test cannot decide and the
  decision falls back to tolerance and floor, saying so in ``reasons``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from memwatch.units import format_size

__all__ = [
    "ChangeDecision",
    "MannWhitneyResult",
    "bootstrap_ratio_ci",
    "decide_change",
    "mann_whitney",
    "min_p_value",
]

Direction = Literal["increase", "decrease", "none"]


@dataclass(frozen=True)
class MannWhitneyResult:
    """U of the current sample (``u``), the two-sided p-value and the sample sizes."""

    u: float
    p_value: float
    n_baseline: int
    n_current: int


def min_p_value(n1: int, n2: int) -> float:
    """The smallest two-sided p-value the exact U test can give for sizes n1, n2."""
    if n1 < 1 or n2 < 1:
        return 1.0
    return min(1.0, 2.0 / math.comb(n1 + n2, n1))


def mann_whitney(baseline: Sequence[float], current: Sequence[float]) -> MannWhitneyResult:
    """Two-sided Mann–Whitney U test; identical constant samples give p = 1."""
    a = np.asarray(baseline, dtype=np.float64)
    b = np.asarray(current, dtype=np.float64)
    if a.size == 0 or b.size == 0:
        raise ValueError("mann_whitney needs two non-empty samples")
    both = np.concatenate([a, b])
    if np.all(both == both[0]):  # no information at all; scipy would divide by zero
        return MannWhitneyResult(a.size * b.size / 2.0, 1.0, int(a.size), int(b.size))
    from scipy.stats import mannwhitneyu

    res = mannwhitneyu(b, a, alternative="two-sided", method="auto")
    p = float(res.pvalue)
    return MannWhitneyResult(
        float(res.statistic), 1.0 if math.isnan(p) else min(p, 1.0), int(a.size), int(b.size)
    )


def bootstrap_ratio_ci(
    baseline: Sequence[float],
    current: Sequence[float],
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float] | None:
    """Percentile bootstrap CI of ``median(current) / median(baseline)``.

    Each side is resampled with replacement (independently); None when a resampled
    baseline median can be zero (the ratio is undefined).
    """
    a = np.asarray(baseline, dtype=np.float64)
    b = np.asarray(current, dtype=np.float64)
    if a.size == 0 or b.size == 0:
        raise ValueError("bootstrap_ratio_ci needs two non-empty samples")
    if np.any(a == 0) and np.median(np.abs(a)) == 0:
        return None
    rng = np.random.default_rng(seed)
    med_a = np.median(a[rng.integers(0, a.size, size=(resamples, a.size))], axis=1)
    med_b = np.median(b[rng.integers(0, b.size, size=(resamples, b.size))], axis=1)
    if np.any(med_a == 0):
        return None
    ratios = med_b / med_a
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(ratios, [tail, 100.0 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class ChangeDecision:
    """The verdict on one baseline/current pair.

    ``direction`` is the sign of the median change; ``counts`` says whether every
    criterion agreed that it is real; ``relative`` is the change over the baseline
    median (None when that median is 0); ``absolute`` is in the samples' unit.
    """

    direction: Direction
    counts: bool
    baseline_median: float
    current_median: float
    absolute: float
    relative: float | None
    p_value: float | None
    ci: tuple[float, float] | None
    significance: Literal["significant", "not significant", "not applicable", "too few samples"]
    reasons: tuple[str, ...]


def decide_change(
    baseline: Sequence[float],
    current: Sequence[float],
    *,
    rel_tol: float,
    abs_floor: float = 0.0,
    alpha: float = 0.05,
    seed: int = 0,
    resamples: int = 2000,
    unit: str = "",
) -> ChangeDecision:
    """Does ``current`` differ from ``baseline``? See the module docstring for the rule.

    ``rel_tol`` is a fraction (0.15 for 15 %); ``abs_floor`` is in the samples' unit
    (``unit == "bytes"`` only changes how ``reasons`` print amounts).
    """
    base_med = float(np.median(np.asarray(baseline, dtype=np.float64)))
    cur_med = float(np.median(np.asarray(current, dtype=np.float64)))
    delta = cur_med - base_med
    relative = delta / abs(base_med) if base_med != 0 else None
    direction: Direction = "increase" if delta > 0 else "decrease" if delta < 0 else "none"
    reasons: list[str] = []
    rel_ok = (relative is None and delta != 0) or (relative is not None and abs(relative) >= rel_tol)
    if not rel_ok:
        shown = "0" if relative is None else f"{relative * 100:+.1f}%"
        reasons.append(f"change {shown} is within the {rel_tol * 100:g}% tolerance")
    floor_ok = abs(delta) >= abs_floor
    if not floor_ok:
        if unit == "bytes":
            amounts = (
                f"{format_size(delta, signed=True)} is below the absolute floor {format_size(abs_floor)}"
            )
        else:
            amounts = f"{delta:+.6g} is below the absolute floor {abs_floor:g}"
        reasons.append(f"change {amounts}")
    p_value: float | None = None
    ci: tuple[float, float] | None = None
    n1, n2 = len(baseline), len(current)
    if n1 < 2 or n2 < 2:
        significance: Literal["significant", "not significant", "not applicable", "too few samples"] = (
            "not applicable"
        )
        sig_ok = True
    else:
        p_value = mann_whitney(baseline, current).p_value
        ci = bootstrap_ratio_ci(baseline, current, confidence=1.0 - alpha, resamples=resamples, seed=seed)
        if min_p_value(n1, n2) >= alpha:
            significance, sig_ok = "too few samples", True
            reasons.append(
                f"{n1} vs {n2} samples cannot reach significance at alpha={alpha:g}; "
                "decided on tolerance and floor only"
            )
        elif p_value < alpha:
            significance, sig_ok = "significant", True
        else:
            significance, sig_ok = "not significant", False
            reasons.append(f"not significant (Mann-Whitney p={p_value:.3g} >= {alpha:g})")
    counts = direction != "none" and rel_ok and floor_ok and sig_ok
    return ChangeDecision(
        direction, counts, base_med, cur_med, delta, relative, p_value, ci, significance, tuple(reasons)
    )
