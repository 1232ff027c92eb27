"""Kendall's tau-b against the index, and Sen's confidence interval for a Theil–Sen slope.

Pure numpy and :mod:`math`, so a leak verdict needs no scipy import. The formulas:

- Kendall's S = concordant - discordant pairs of (index, value). With no ties and at
  most 33 readings the two-sided p-value is exact: 2 P(S' <= min), from the number
  of permutations of n items with k inversions (the Mahonian numbers, built by
  repeated convolution). Otherwise S is taken as normal with the variance corrected
  for ties in the values (Kendall 1970, eq. 4.3; the index has no ties).
- Sen (1968), eq. 2.6: the interval is the pair of order statistics of the sorted
  pairwise slopes at (N -/+ z sigma) / 2, where sigma^2 = Var(S) with ties removed.

Both are tested against scipy.stats on synthetic series (tests/unit/test_kendall.py).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

__all__ = ["kendall_tau_b", "sen_interval"]

#: Up to this many readings without ties, the p-value comes from the exact distribution.
EXACT_MAX_N = 33


def _tie_groups(values: np.ndarray) -> np.ndarray:
    """Sizes of the groups of equal values (only groups of two or more)."""
    _, counts = np.unique(values, return_counts=True)
    return counts[counts > 1].astype(np.float64)


def _s_variance(n: int, ties: np.ndarray) -> float:
    """Var(S) under "no trend" for n readings with the given tie groups in the values."""
    return float((n * (n - 1) * (2 * n + 5) - np.sum(ties * (ties - 1) * (2 * ties + 5))) / 18.0)


def _exact_two_sided(n: int, discordant: int) -> float:
    """Exact two-sided p-value of Kendall's S for n untied readings with this many discordant pairs."""
    total = n * (n - 1) // 2
    c = min(discordant, total - discordant)
    if n <= 2:
        return 1.0
    if 4 * c == n * (n - 1):
        return 1.0
    # probs[k] = P(a random permutation has k inversions), only k <= c is needed.
    probs = np.zeros(c + 1)
    probs[0] = 1.0
    for m in range(2, n + 1):
        # adding the m-th item adds 0..m-1 inversions, each with probability 1/m
        window = np.cumsum(probs)
        if m <= c:
            window[m:] -= window[: c + 1 - m].copy()
        probs = window / m
    return min(1.0, 2.0 * float(np.sum(probs)))


def kendall_tau_b(values: np.ndarray) -> tuple[float, float]:
    """(tau-b, two-sided p-value) of ``values`` against their index 0, 1, 2, ...

    Needs at least 3 readings that are not all equal (the caller checks).
    """
    y = np.asarray(values, dtype=np.float64)
    n = int(y.size)
    i, j = np.triu_indices(n, k=1)
    signs = np.sign(y[j] - y[i])
    concordant = int(np.count_nonzero(signs > 0))
    discordant = int(np.count_nonzero(signs < 0))
    total = n * (n - 1) // 2
    ties = _tie_groups(y)
    y_tied = float(np.sum(ties * (ties - 1) / 2.0))
    s = concordant - discordant
    tau = s / math.sqrt(total * (total - y_tied))
    if ties.size == 0 and (n <= EXACT_MAX_N or min(discordant, total - discordant) <= 1):
        return tau, _exact_two_sided(n, discordant)
    z = s / math.sqrt(_s_variance(n, ties))
    return tau, min(1.0, math.erfc(abs(z) / math.sqrt(2.0)))


def sen_interval(
    sorted_slopes: np.ndarray, values: np.ndarray, xs: np.ndarray, confidence: float
) -> tuple[float, float]:
    """Sen's (1968) ``confidence`` interval for the Theil–Sen slope.

    ``sorted_slopes`` are the pairwise slopes in increasing order; ties in ``xs`` and
    in ``values`` reduce the variance of S as in Sen's eq. 2.6.
    """
    alpha = 1.0 - confidence if confidence > 0.5 else confidence
    z = NormalDist().inv_cdf(alpha / 2.0)  # negative
    count = int(sorted_slopes.size)
    x_ties = _tie_groups(np.asarray(xs, dtype=np.float64))
    variance = _s_variance(int(values.size), _tie_groups(np.asarray(values, dtype=np.float64)))
    variance -= float(np.sum(x_ties * (x_ties - 1) * (2 * x_ties + 5))) / 18.0
    if count == 0 or variance < 0:
        return math.nan, math.nan
    sigma = math.sqrt(variance)
    upper = min(round((count - z * sigma) / 2.0), count - 1)
    lower = max(round((count + z * sigma) / 2.0) - 1, 0)
    return float(sorted_slopes[lower]), float(sorted_slopes[upper])
