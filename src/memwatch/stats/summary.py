"""Descriptive statistics of memory series: pure functions on arrays.

No I/O, no threads, no printing. NaN marks a missing reading and is ignored by
every function here (a series that is all NaN gives NaN).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "describe",
    "growth",
    "interval_summary",
    "peak",
    "percentiles",
    "rate",
    "smoothed_rate",
]

_NAN = float("nan")


def _clean(values: Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    return arr[~np.isnan(arr)]


def describe(values: Sequence[float] | np.ndarray) -> dict[str, float]:
    """n, mean, median, stdev, min and max of ``values``.

    ``stdev`` is the sample standard deviation (n - 1 in the denominator), the
    usual estimate when the values are a few repeated runs; it is 0 for one value.
    Nothing is assumed about the distribution.
    """
    arr = _clean(values)
    if arr.size == 0:
        return {"n": 0.0, "mean": _NAN, "median": _NAN, "stdev": _NAN, "min": _NAN, "max": _NAN}
    stdev = float(np.std(arr, ddof=1)) if arr.size > 1 else 0.0
    return {
        "n": float(arr.size),
        "mean": float(np.mean(arr)),
        "median": float(np.median(arr)),
        "stdev": stdev,
        "min": float(np.min(arr)),
        "max": float(np.max(arr)),
    }


def percentiles(
    values: Sequence[float] | np.ndarray, qs: Sequence[float] = (50.0, 90.0, 95.0, 99.0)
) -> dict[str, float]:
    """Percentiles by linear interpolation between order statistics (numpy's default).

    Keys are ``"p50"``, ``"p90"``, ... Each ``q`` must lie in [0, 100].
    """
    for q in qs:
        if not 0.0 <= q <= 100.0:
            raise ValueError(f"percentile {q!r} is outside [0, 100]")
    arr = _clean(values)
    out: dict[str, float] = {}
    for q in qs:
        key = f"p{q:g}"
        out[key] = float(np.percentile(arr, q)) if arr.size else _NAN
    return out


def peak(values: Sequence[float] | np.ndarray) -> tuple[float, int]:
    """The largest value and its index (the first one if it repeats); (NaN, -1) when empty."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0 or bool(np.all(np.isnan(arr))):
        return _NAN, -1
    index = int(np.nanargmax(arr))
    return float(arr[index]), index


def growth(values: Sequence[float] | np.ndarray) -> float:
    """Last valid value minus first valid value (end-to-end change; NaN when empty)."""
    arr = _clean(values)
    return float(arr[-1] - arr[0]) if arr.size else _NAN


def rate(t: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Change per second at each sample (``numpy.gradient``: central differences inside,
    one-sided at the ends). Assumes ``t`` is strictly increasing; fewer than two
    samples give zeros."""
    tt = np.asarray(t, dtype=np.float64)
    vv = np.asarray(values, dtype=np.float64)
    if tt.shape != vv.shape:
        raise ValueError(f"t and values differ in length ({tt.size} vs {vv.size})")
    if tt.size < 2:
        return np.zeros_like(vv)
    return np.asarray(np.gradient(vv, tt), dtype=np.float64)


def smoothed_rate(
    t: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray, window: float
) -> np.ndarray:
    """Change per second over a trailing/leading window of ``window`` seconds.

    Each point's rate is ``(v(t + w/2) - v(t - w/2)) / w`` using the samples nearest to
    those times, which is less noisy than :func:`rate` for RSS, whose per-sample steps
    are page-sized jitter. ``window <= 0`` falls back to :func:`rate`.
    """
    tt = np.asarray(t, dtype=np.float64)
    vv = np.asarray(values, dtype=np.float64)
    if window <= 0 or tt.size < 2:
        return rate(tt, vv)
    lo = np.searchsorted(tt, tt - window / 2.0, side="left")
    hi = np.searchsorted(tt, tt + window / 2.0, side="right") - 1
    lo = np.clip(lo, 0, tt.size - 1)
    hi = np.clip(hi, 0, tt.size - 1)
    dt = tt[hi] - tt[lo]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(dt > 0, (vv[hi] - vv[lo]) / np.where(dt > 0, dt, 1.0), 0.0)
    return np.asarray(out, dtype=np.float64)


def interval_summary(
    t: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray, start: float, end: float
) -> dict[str, float]:
    """Memory over the interval [start, end] of a sampled series.

    ``start_memory`` is the memory on entering: the last sample at or before
    ``start`` (the first one inside when none comes before); ``end_memory`` the last
    sample at or before ``end``; ``peak`` the largest of the entry sample and the
    samples inside; ``samples`` how many fall inside. The series is assumed sorted
    by time; values between samples are unknown, so a spike shorter than the
    sampling interval can be missed, and a phase shorter than it may hold no sample.
    """
    tt = np.asarray(t, dtype=np.float64)
    vv = np.asarray(values, dtype=np.float64)
    if tt.size == 0:
        return {"start_memory": _NAN, "end_memory": _NAN, "peak": _NAN, "delta": _NAN, "samples": 0.0}
    i0 = int(np.searchsorted(tt, start, side="left"))
    i1 = int(np.searchsorted(tt, end, side="right"))  # exclusive
    entry = int(np.searchsorted(tt, start, side="right")) - 1
    first = float(vv[entry]) if entry >= 0 else float(vv[min(i0, tt.size - 1)])
    last = float(vv[i1 - 1]) if i1 > 0 else first
    inside = vv[i0:i1] if i1 > i0 else vv[:0]
    candidates = np.concatenate([[first], inside])
    top = float(np.nanmax(candidates)) if not bool(np.all(np.isnan(candidates))) else _NAN
    delta = last - first if not (math.isnan(first) or math.isnan(last)) else _NAN
    return {
        "start_memory": first,
        "end_memory": last,
        "peak": top,
        "delta": delta,
        "samples": float(max(i1 - i0, 0)),
    }
