"""Trend tests for leak detection: is a series of per-round readings growing for good?

A leak engine reads a signal (allocated blocks, native heap bytes, ...) once per
round, after a batch of calls and a full garbage collection. This module decides,
from those readings alone, whether the signal grows steadily. Three tests combine:

1. **Theil–Sen slope**: the median of all pairwise slopes, with the confidence
   interval of Sen (1968, eq. 2.6) from the distribution of Kendall's S. It assumes
   the readings are a monotone trend plus independent noise; up to ~29% of the
   points may be outliers without moving the estimate.
2. **Mann–Kendall trend test** (Kendall's tau-b of the readings against their index;
   the exact null distribution for up to 33 readings without ties, else the normal
   approximation with the tie-corrected variance): a rank test, so it assumes nothing about the
   noise distribution, only that rounds are independent under "no trend". Ties
   (exactly flat stretches, common for exact counters) are handled by tau-b.
3. **Persistence ("grows on every stretch")**: the rounds are cut into ``k``
   contiguous stretches; the median of each stretch is its *level*. A leak raises
   the level on every stretch. A cache that fills then stays flat (plateau), a
   one-time step, or a buffer that is cleared periodically (sawtooth) fails this
   rule even when tests 1 and 2 find a significant positive trend, and that is the
   point: a bounded structure is not a leak.

The noise scale that decides what counts as "a rise" is estimated from first
differences (median absolute deviation), which a linear trend or a single step
does not inflate. Everything here is a pure function of arrays: no I/O, no clock.

Both statistics are computed here with numpy and :mod:`math` (scipy costs about half
a second to import, which a first leak verdict in a new process should not pay); the
tests check them against :func:`scipy.stats.theilslopes` and
:func:`scipy.stats.kendalltau` on synthetic series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from memwatch.stats.kendall import kendall_tau_b, sen_interval

__all__ = [
    "Shape",
    "Trend",
    "assess",
    "difference_noise",
    "mann_kendall",
    "stretch_levels",
    "theil_sen",
]

Shape = Literal["flat", "growing", "shrinking", "plateau", "step", "sawtooth", "irregular"]

#: Standard deviation of a sample median relative to sigma/sqrt(m) for normal noise.
_MEDIAN_EFFICIENCY = 1.2533


@dataclass(frozen=True)
class Trend:
    """What the trend tests say about one series; slopes are per round.

    ``significant``: Mann–Kendall p < alpha and the Theil–Sen interval lies above 0.
    ``persistent``: every stretch's level exceeds the previous one by more than
    ``floor``. ``growing`` is both. ``shape`` names the pattern for people.
    """

    n: int
    slope: float
    low: float
    high: float
    intercept: float
    tau: float
    p_value: float
    noise: float
    floor: float
    levels: tuple[float, ...]
    rises: tuple[float, ...]
    significant: bool
    persistent: bool
    shape: Shape

    @property
    def growing(self) -> bool:
        return self.significant and self.persistent


def theil_sen(
    y: np.ndarray, x: np.ndarray | None = None, confidence: float = 0.95
) -> tuple[float, float, float, float]:
    """(slope, intercept, low, high): the Theil–Sen line with a ``confidence`` interval.

    A series of fewer than 3 points, or an exactly flat one, has no spread to test;
    the slope is then computed directly and the interval is the slope itself.
    """
    values = np.asarray(y, dtype=np.float64)
    xs = np.arange(values.size, dtype=np.float64) if x is None else np.asarray(x, dtype=np.float64)
    if values.size == 0:
        return 0.0, 0.0, 0.0, 0.0
    if values.size < 3 or np.ptp(values) == 0:
        slope = (
            0.0
            if values.size < 2 or np.ptp(values) == 0
            else float((values[-1] - values[0]) / (xs[-1] - xs[0]))
        )
        intercept = float(np.median(values - slope * xs))
        return slope, intercept, slope, slope
    i, j = np.triu_indices(values.size, k=1)
    dx = xs[j] - xs[i]
    keep = dx > 0
    slopes = np.sort((values[j] - values[i])[keep] / dx[keep])
    slope = float(np.median(slopes))
    intercept = float(np.median(values) - slope * np.median(xs))
    low, high = sen_interval(slopes, values, xs, confidence)
    return slope, intercept, low, high


def mann_kendall(y: np.ndarray) -> tuple[float, float]:
    """(tau, two-sided p-value) of the series against its index (Kendall's tau-b).

    A constant or too-short series has no trend: (0.0, 1.0).
    """
    values = np.asarray(y, dtype=np.float64)
    if values.size < 3 or np.ptp(values) == 0:
        return 0.0, 1.0
    tau, p_value = kendall_tau_b(values)
    if not math.isfinite(tau) or not math.isfinite(p_value):
        return 0.0, 1.0
    return tau, p_value


def difference_noise(y: np.ndarray, x: np.ndarray | None = None) -> float:
    """Robust standard deviation of the readings' noise, from first differences.

    For independent noise of standard deviation s around any trend, a difference
    has standard deviation s*sqrt(2); 1.4826 x MAD estimates it while ignoring a few
    jumps (a step, the drop of a sawtooth). With unevenly spaced ``x`` each
    difference is scaled to the mean spacing first, so a linear trend gives zero.
    """
    values = np.asarray(y, dtype=np.float64)
    if values.size < 3:
        return 0.0
    diffs = np.diff(values)
    if x is not None:
        dx = np.diff(np.asarray(x, dtype=np.float64))
        if np.all(dx > 0):
            diffs = diffs * (float(np.mean(dx)) / dx)
    mad = float(np.median(np.abs(diffs - np.median(diffs))))
    return 1.4826 * mad / math.sqrt(2.0)


def stretch_levels(y: np.ndarray, stretches: int) -> np.ndarray:
    """Median of each of ``stretches`` contiguous, nearly equal parts of the series."""
    values = np.asarray(y, dtype=np.float64)
    k = max(1, min(stretches, values.size))
    return np.array([float(np.median(part)) for part in np.array_split(values, k)])


def assess(
    y: np.ndarray,
    x: np.ndarray | None = None,
    *,
    alpha: float = 0.01,
    stretches: int = 4,
    min_rise: float = 0.0,
    confidence: float = 0.95,
    z: float = 3.0,
) -> Trend:
    """Run the three tests on one series and name its shape.

    ``x`` (increasing; default 0, 1, 2, ...) is where each reading was taken, e.g.
    the cumulative number of calls: slopes are then per unit of ``x``. The rank
    test and the stretches only use the order of the readings.
    ``min_rise`` is the smallest rise of a stretch level that can count as growth,
    in the series' unit (for an exact counter 0.5 means "at least one"); the
    effective floor also grows with the noise: ``z`` standard deviations of the
    difference of two stretch medians.
    """
    values = np.asarray(y, dtype=np.float64)
    n = int(values.size)
    slope, intercept, low, high = theil_sen(values, x, confidence=confidence)
    tau, p_value = mann_kendall(values)
    noise = difference_noise(values, x)
    k = max(2, min(stretches, n // 2)) if n >= 4 else max(1, n)
    levels = stretch_levels(values, k) if n else np.zeros(0)
    per_stretch = max(1, n // max(k, 1))
    floor = max(min_rise, z * _MEDIAN_EFFICIENCY * noise * math.sqrt(2.0 / per_stretch))
    rises = np.diff(levels)
    up = rises > floor
    down = rises < -floor
    significant = bool(p_value < alpha and low > 0)
    persistent = bool(rises.size > 0 and up.all())
    shape = _shape(values, rises, up, down, significant, high, p_value, alpha, floor, noise)
    return Trend(
        n=n,
        slope=slope,
        low=low,
        high=high,
        intercept=intercept,
        tau=tau,
        p_value=p_value,
        noise=noise,
        floor=floor,
        levels=tuple(float(v) for v in levels),
        rises=tuple(float(v) for v in rises),
        significant=significant,
        persistent=persistent,
        shape=shape,
    )


def _shape(
    values: np.ndarray,
    rises: np.ndarray,
    up: np.ndarray,
    down: np.ndarray,
    significant: bool,
    high: float,
    p_value: float,
    alpha: float,
    floor: float,
    noise: float,
) -> Shape:
    """Name the pattern from the stretch rises (``up``/``down``: beyond the floor)."""
    if values.size < 2 or rises.size == 0:
        return "flat"
    drops = np.diff(values) < -max(floor, 3.0 * noise * math.sqrt(2.0))
    if up.all():
        return "growing" if significant else "irregular"
    if down.all() and p_value < alpha and high < 0:
        return "shrinking"
    if int(drops.sum()) >= 2 and not significant:
        return "sawtooth"
    if not up.any() and not down.any():
        return "flat"
    if up.any() and down.any():
        return "sawtooth"
    # Only rises, on some stretches: a single later one is a step; rises on the first
    # stretches and none after is a plateau; anything else has not settled.
    ups = int(up.sum())
    if ups == 1 and not up[0]:
        return "step"
    if bool(up[:ups].all()):
        return "plateau"
    return "irregular"
