"""Where did a metric step? Change-point detection over a series of runs.

The method, in two stages:

1. **PELT** (Killick, Fearnhead & Eckley 2012, "Optimal detection of changepoints
   with a linear computational cost") with the Gaussian change-in-mean cost
   ``sum((y - mean(segment))**2) / sigma**2`` and the MBIC-style penalty
   ``3 * log(n)`` per change point. This finds the segmentation minimising
   cost + penalty exactly; pruning keeps it near-linear when the series has steps.
   ``sigma`` is estimated robustly from first differences
   (``1.4826 * MAD(diff) / sqrt(2)``), so steps themselves do not inflate it, and is
   never taken below ``noise_floor`` times the series' median (memory figures are
   often exactly repeatable, which would make any wobble "significant").
2. **Median check** (in the spirit of asv's step detection, which fits medians with
   an L1 cost to stay robust to outliers): a boundary is kept only when the
   medians of the segments either side differ by at least ``min_change`` of the
   earlier one and by at least two sigma. The weakest failing boundary is merged
   away and the check repeats. An isolated outlier makes a short segment whose
   median equals its neighbours', so it does not survive.

Assumes the runs are in time order and that noise is roughly constant over the
series; ``min_size`` runs are needed on each side of a step.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Step", "detect_steps", "robust_sigma"]


@dataclass(frozen=True)
class Step:
    """A change point: ``index`` is the first value after the step; medians either side."""

    index: int
    before: float
    after: float

    @property
    def relative(self) -> float | None:
        return (self.after - self.before) / abs(self.before) if self.before else None


def robust_sigma(values: Sequence[float] | np.ndarray) -> float:
    """Noise of single values from the MAD of first differences (robust to steps)."""
    y = np.asarray(values, dtype=np.float64)
    if y.size < 3:
        return 0.0
    diff = np.diff(y)
    mad = float(np.median(np.abs(diff - np.median(diff))))
    return 1.4826 * mad / math.sqrt(2.0)


def detect_steps(
    values: Sequence[float] | np.ndarray,
    *,
    min_size: int = 3,
    min_change: float = 0.05,
    penalty: float | None = None,
    noise_floor: float = 0.001,
) -> tuple[Step, ...]:
    """Steps in ``values`` (oldest first); see the module docstring for the method."""
    y = np.asarray(values, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError("detect_steps expects a one-dimensional series")
    if not np.all(np.isfinite(y)):
        raise ValueError("detect_steps expects finite values")
    if min_size < 1:
        raise ValueError("min_size must be at least 1")
    n = int(y.size)
    if n < 2 * min_size:
        return ()
    sigma = max(robust_sigma(y), noise_floor * abs(float(np.median(y))), 1e-12)
    boundaries = _pelt(y / sigma, min_size, 3.0 * math.log(n) if penalty is None else penalty)
    return _median_check(y, boundaries, sigma, min_change, min_size)


def _pelt(z: np.ndarray, min_size: int, beta: float) -> list[int]:
    n = int(z.size)
    cs = np.concatenate([[0.0], np.cumsum(z)])
    cs2 = np.concatenate([[0.0], np.cumsum(z * z)])
    best = np.full(n + 1, np.inf)
    best[0] = -beta
    last = np.zeros(n + 1, dtype=np.int64)
    cands = np.zeros(0, dtype=np.int64)
    for t in range(min_size, n + 1):
        new = t - min_size
        if new == 0 or new >= min_size:
            cands = np.append(cands, new)
        length = t - cands
        seg = cs[t] - cs[cands]
        cost = (cs2[t] - cs2[cands]) - seg * seg / length
        total = best[cands] + cost + beta
        k = int(np.argmin(total))
        best[t] = total[k]
        last[t] = cands[k]
        cands = cands[best[cands] + cost <= best[t]]  # PELT pruning (K = 0 for this cost)
    out: list[int] = []
    t = n
    while t > 0:
        s = int(last[t])
        if s > 0:
            out.append(s)
        t = s
    return sorted(out)


def _median_check(
    y: np.ndarray, boundaries: list[int], sigma: float, min_change: float, min_size: int
) -> tuple[Step, ...]:
    cuts = list(boundaries)
    while True:
        edges = [0, *cuts, int(y.size)]
        medians = [float(np.median(y[a:b])) for a, b in itertools.pairwise(edges)]
        weakest: tuple[float, int] | None = None
        for i in range(len(cuts)):
            before, after = medians[i], medians[i + 1]
            delta = abs(after - before)
            needed = max(min_change * abs(before), 2.0 * sigma)
            if delta < needed:
                score = delta / needed
                if weakest is None or score < weakest[0]:
                    weakest = (score, i)
        if weakest is None:
            break
        del cuts[weakest[1]]
    cuts = _refine(y, cuts, medians, 2 * min_size)
    edges = [0, *cuts, int(y.size)]
    medians = [float(np.median(y[a:b])) for a, b in itertools.pairwise(edges)]
    return tuple(Step(cut, medians[i], medians[i + 1]) for i, cut in enumerate(cuts))


def _refine(y: np.ndarray, cuts: list[int], medians: list[float], reach: int) -> list[int]:
    """Move each cut (by less than a segment) to where the L1 fit to the medians either
    side is best: the minimum segment length can make PELT place a late step early."""
    edges = [0, *cuts, int(y.size)]
    out: list[int] = []
    for i, cut in enumerate(cuts):
        lo = max(edges[i] + 1, (out[-1] + 1) if out else 1, cut - reach)
        hi = min(edges[i + 2] - 1, cut + reach)
        before, after = medians[i], medians[i + 1]
        window = y[lo - 1 : hi + 1]
        best, best_cost = cut, math.inf
        for cand in range(lo, hi + 1):
            left = window[: cand - lo + 1]
            right = window[cand - lo + 1 :]
            cost = float(np.abs(left - before).sum() + np.abs(right - after).sum())
            if cost < best_cost - 1e-12 or (
                abs(cost - best_cost) <= 1e-12 and abs(cand - cut) < abs(best - cut)
            ):
                best, best_cost = cand, cost
        out.append(best)
    return out
