"""The arithmetic of the stress scenarios: pure functions, tested on synthetic data.

No I/O, no processes: the breaking-point searches take a ``probe(load) -> bool``
callable (True when the load fit), so they are tested with a synthetic threshold.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Search",
    "Trend",
    "bisect_breaking_point",
    "growth_trend",
    "judge_interval",
    "linear_breaking_point",
    "max_deviation",
    "recovery_ratio",
    "stability_score",
]


@dataclass
class Search:
    """Outcome of a breaking-point search.

    ``breaking_point`` is the smallest load seen to fail (None when every load up to
    the maximum fit), ``last_ok`` the largest load seen to fit (None when even the
    first failed); with bisection they differ by at most the resolution.
    ``trials`` lists ``(load, ok)`` in the order they ran.
    """

    breaking_point: int | None
    last_ok: int | None
    trials: list[tuple[int, bool]] = field(default_factory=list)


def bisect_breaking_point(
    probe: Callable[[int], bool], *, start: int, max_load: int, resolution: int = 1, relative: float = 0.0
) -> Search:
    """Double the load from ``start`` until it fails (or reaches ``max_load``), then bisect.

    Bisection stops when the gap between the last load that fit and the first that
    failed is at most ``max(resolution, relative * failed)``.

    Assumes failure is monotonic in the load (if L fails, every load above L fails),
    and that load 0 fits. About ``log2(B/start) + log2(B/resolution)`` trials for a
    breaking point B, against ``B/step`` for a linear ramp.
    """
    if start < 1 or max_load < start or resolution < 1 or not 0.0 <= relative < 1.0:
        raise ValueError("need 1 <= start <= max_load, resolution >= 1 and 0 <= relative < 1")
    trials: list[tuple[int, bool]] = []

    def run(load: int) -> bool:
        ok = bool(probe(load))
        trials.append((load, ok))
        return ok

    last_ok: int | None = None
    failed: int | None = None
    load = start
    while True:
        if run(load):
            last_ok = load
            if load >= max_load:
                return Search(None, last_ok, trials)
            load = min(load * 2, max_load)
        else:
            failed = load
            break
    low = last_ok if last_ok is not None else 0
    while failed - low > max(resolution, relative * failed):
        mid = (low + failed) // 2
        if run(mid):
            low = last_ok = mid
        else:
            failed = mid
    return Search(failed, last_ok, trials)


def linear_breaking_point(probe: Callable[[int], bool], *, start: int, step: int, max_load: int) -> Search:
    """Raise the load by ``step`` from ``start`` until it fails or passes ``max_load``."""
    if start < 1 or step < 1 or max_load < start:
        raise ValueError("need 1 <= start <= max_load and step >= 1")
    trials: list[tuple[int, bool]] = []
    last_ok: int | None = None
    load = start
    while load <= max_load:
        ok = bool(probe(load))
        trials.append((load, ok))
        if not ok:
            return Search(load, last_ok, trials)
        last_ok = load
        load += step
    return Search(None, last_ok, trials)


def recovery_ratio(baseline: float, peak: float, after: float, *, min_spike: float) -> float | None:
    """Share of a spike given back: ``(peak - after) / (peak - baseline)``, clipped to [0, 1].

    None (not judged) when the spike ``peak - baseline`` is below ``min_spike`` or a
    reading is missing (NaN): a ratio of two tiny differences is noise.
    """
    if any(math.isnan(v) for v in (baseline, peak, after)):
        return None
    spike = peak - baseline
    if spike < min_spike:
        return None
    return min(1.0, max(0.0, (peak - after) / spike))


@dataclass(frozen=True)
class Trend:
    """A growth rate in units per second with its confidence interval (Theil–Sen)."""

    slope: float
    low: float
    high: float
    intercept: float
    n: int
    confidence: float


def growth_trend(
    t: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray, *, confidence: float = 0.95
) -> Trend:
    """Theil–Sen slope of ``values`` over ``t`` with a ``confidence`` interval.

    The median of pairwise slopes: robust to up to ~29% outliers (GC pauses, arena
    growth) and it assumes no particular noise distribution; the interval is the
    distribution-free one from Kendall's tau (scipy.stats.theilslopes). Needs at
    least 3 finite points; fewer give NaN.
    """
    from scipy import stats

    x = np.asarray(t, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size < 3 or float(np.ptp(x)) == 0.0:
        nan = math.nan
        return Trend(nan, nan, nan, nan, int(x.size), confidence)
    res = stats.theilslopes(y, x, alpha=confidence)
    return Trend(float(res[0]), float(res[2]), float(res[3]), float(res[1]), int(x.size), confidence)


def judge_interval(low: float, high: float, target: float) -> str:
    """``"pass"`` when the whole interval is below ``target``, ``"fail"`` when it is above,
    ``"inconclusive"`` when it straddles it (run longer), ``"not-judged"`` without data."""
    if math.isnan(low) or math.isnan(high):
        return "not-judged"
    if high < target:
        return "pass"
    if low > target:
        return "fail"
    return "inconclusive"


def max_deviation(values: Sequence[float] | np.ndarray) -> float:
    """Largest ``|v - median| / median`` over the finite values (NaN when there are none)."""
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return math.nan
    center = float(np.median(arr))
    if center == 0:
        return math.inf if float(np.max(np.abs(arr))) > 0 else 0.0
    return float(np.max(np.abs(arr - center)) / abs(center))


def stability_score(cycles: Sequence[tuple[float, float, float]]) -> float:
    """Mean share of each allocation given back; 1.0 when every cycle returned everything.

    Each cycle is ``(allocated, before, after)`` in bytes: the memory held before the
    allocation, the allocation's size and the memory held after its release.
    ``r = clamp(1 - max(0, after - before) / allocated, 0, 1)``; the score is the mean
    of ``r`` over the completed cycles (0.0 when there are none). It assumes the
    allocations are large against the noise of the memory signal (tens of MB for RSS).
    """
    ratios = [
        min(1.0, max(0.0, 1.0 - max(0.0, after - before) / allocated))
        for allocated, before, after in cycles
        if allocated > 0
    ]
    return statistics.fmean(ratios) if ratios else 0.0
