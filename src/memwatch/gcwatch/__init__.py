"""Garbage-collection performance: pauses, frequency, efficiency, latency impact, tuning.

Measured from the collector's own callbacks (``gc.callbacks`` start/stop pairs
timed with ``perf_counter_ns``; the interpreter's own duration where it gives one,
Python 3.15+). Modules:

- ``monitor``: :class:`GCMonitor`, the context manager that records collections.
- ``report``: builds the :class:`~memwatch.model.gc.GCReport` from the events.
- ``latency``: per-call latency with and without an overlapping collection.
- ``validator``: :class:`GCPerformanceValidator` and :class:`GCThresholds`.
- ``decorator``: :func:`gc_performance_monitor`.
- ``optimizer`` / ``advisor``: :class:`GCOptimizer` (apply and restore tuning) and its advice.
- ``reclamation``: how much of a workload's peak memory came back.
"""

from __future__ import annotations

from memwatch.gcwatch.advisor import advise
from memwatch.gcwatch.decorator import gc_performance_monitor
from memwatch.gcwatch.latency import measure_latency, measure_latency_async
from memwatch.gcwatch.monitor import GCMonitor
from memwatch.gcwatch.optimizer import GCOptimizer
from memwatch.gcwatch.reclamation import measure_reclamation
from memwatch.gcwatch.validator import GCPerformanceValidator, GCThresholds

__all__ = [
    "GCMonitor",
    "GCOptimizer",
    "GCPerformanceValidator",
    "GCThresholds",
    "advise",
    "gc_performance_monitor",
    "measure_latency",
    "measure_latency_async",
    "measure_reclamation",
]
