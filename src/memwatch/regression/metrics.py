"""Which way is better for each recorded metric: the one direction table.

Every comparison (:func:`memwatch.regression.check.check_metric`, the benchmark set's
thresholds, ``memwatch compare``, ``MemoryPerformanceRegression``) asks
:func:`direction_of` whether a metric regresses when it goes up or when it goes down.

- ``lower`` is better: memory (peak, growth, RSS, the Python and native peaks), time
  (duration, time per operation, latency), GC pauses and collections.
- ``higher`` is better: throughput (operations per second, allocation and pool rates,
  memory bandwidth), hit rates, reclaimed fractions, efficiency scores.

A name not in the table is matched by its words (``*_per_second``, ``*_rate``,
``*hit_rate*``, ``*reclaimed*``, ``*efficiency*``, ``*bandwidth*``, ``*throughput*``:
higher, except names starting with ``growth`` or ``leak``) and else counts as
lower-is-better, as memory does.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["DIRECTIONS", "HIGHER_WORDS", "Direction", "direction_of", "regressed_when"]

Direction = Literal["lower", "higher"]

#: metric name -> the direction in which it is better (names as recorded in the store)
DIRECTIONS: dict[str, Direction] = {
    # memory (the pytest plugin, memwatch validate, MemoryPerformanceRegression)
    "peak": "lower",
    "growth": "lower",
    "rss": "lower",
    "python_peak": "lower",
    "native_peak": "lower",
    "vms": "lower",
    # time
    "duration": "lower",
    "time_per_op": "lower",
    "cache_get_latency_us": "lower",
    # the garbage collector
    "gc_pause_avg_ms": "lower",
    "gc_pause_p99_ms": "lower",
    "gc_pause_ms": "lower",
    "gc_collections": "lower",
    # throughput and efficiency (memwatch bench, MemoryPerformanceRegression, document 001)
    "ops_per_second": "higher",
    "allocation_rate": "higher",
    "allocation_speed": "higher",
    "pool_rate": "higher",
    "memory_bandwidth": "higher",
    "cache_hit_rate": "higher",
    "hit_rate": "higher",
    "cache_performance": "higher",
    "reclaimed_fraction": "higher",
    "memory_efficiency": "higher",
    "gc_efficiency_score": "higher",
}

#: words in a metric name not in :data:`DIRECTIONS` that make it higher-is-better
HIGHER_WORDS = ("per_second", "_rate", "hit", "reclaimed", "efficiency", "bandwidth", "throughput")


def direction_of(metric: str) -> Direction:
    """The direction in which ``metric`` is better (see the module docstring)."""
    name = metric.lower()
    known = DIRECTIONS.get(name)
    if known is not None:
        return known
    if name.startswith(("growth", "leak")):  # leak growth (``growth_rate`` too) stays low
        return "lower"
    if name.endswith("rate") or any(word in name for word in HIGHER_WORDS):
        return "higher"
    return "lower"


def regressed_when(metric: str) -> Literal["increase", "decrease"]:
    """The change of the median that is a regression for ``metric``."""
    return "increase" if direction_of(metric) == "lower" else "decrease"
