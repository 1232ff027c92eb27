"""What garbage collection costs an operation's latency.

Run an operation many times under a :class:`GCMonitor`, time each call and mark
the calls during which a collection ran (any thread's: a collection pauses all of
them). The report's ``latency`` then holds p50/p99 with and without a collection.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from time import perf_counter_ns
from typing import Any

import numpy as np

from memwatch.errors import ConfigError, OperationError, user_traceback
from memwatch.gcwatch.monitor import GCMonitor
from memwatch.model.gc import GCReport, LatencyImpact
from memwatch.stats.gcstats import latency_split

__all__ = ["check_iterations", "latency_impact", "measure_latency", "measure_latency_async"]


def check_iterations(iterations: object) -> int:
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ConfigError(f"iterations must be a positive integer, got {iterations!r}")
    return iterations


def latency_impact(latencies_ms: list[float], overlapped: list[bool]) -> LatencyImpact:
    """Summarise per-call latencies split by overlap with a collection."""
    s = latency_split(latencies_ms, overlapped)
    return LatencyImpact(
        calls=len(latencies_ms),
        calls_with_gc=int(s["n_with"]),
        calls_without_gc=int(s["n_without"]),
        p50_with_ms=s["p50_with_ms"],
        p99_with_ms=s["p99_with_ms"],
        p50_without_ms=s["p50_without_ms"],
        p99_without_ms=s["p99_without_ms"],
        mean_with_ms=s["mean_with_ms"],
        mean_without_ms=s["mean_without_ms"],
        p50_cost_ms=s["p50_cost_ms"],
        latencies_ms=np.asarray(latencies_ms, dtype=np.float64),
        overlapped=np.asarray(overlapped, dtype=np.float64),
    )


def _failed(component: str, index: int, iterations: int, exc: Exception) -> OperationError:
    return OperationError(
        f"{component}: the operation raised {type(exc).__name__}: {exc} (call {index + 1} of {iterations})",
        original=exc,
        traceback_text=user_traceback(exc),
    )


def measure_latency(
    func: Callable[[], object],
    iterations: int = 1000,
    *,
    component: str = "operation",
    count_objects: bool = True,
) -> GCReport:
    """Call ``func()`` ``iterations`` times under a monitor; the report carries ``latency``.

    An exception from ``func`` stops the run: the monitor is stopped (callbacks
    removed) and :class:`~memwatch.errors.OperationError` names the call that failed.
    """
    n = check_iterations(iterations)
    lat: list[float] = []
    over: list[bool] = []
    with GCMonitor(count_objects=count_objects, component=component) as gm:
        for i in range(n):
            seen = gm.collections_seen
            t0 = perf_counter_ns()
            try:
                func()
            except Exception as exc:
                raise _failed(component, i, n, exc) from exc
            t1 = perf_counter_ns()
            lat.append((t1 - t0) / 1e6)
            over.append(gm.collections_seen != seen)
        gm.operations = n
    return dataclasses.replace(gm.report, latency=latency_impact(lat, over))


async def measure_latency_async(
    func: Callable[[], Any],
    iterations: int = 1000,
    *,
    component: str = "operation",
    count_objects: bool = True,
) -> GCReport:
    """Like :func:`measure_latency`; ``func`` may be a coroutine function (each call awaited).

    A call's latency includes the time its awaits spent waiting, so a collection run
    by another task during that wait counts as overlapping it.
    """
    n = check_iterations(iterations)
    lat: list[float] = []
    over: list[bool] = []
    with GCMonitor(count_objects=count_objects, component=component) as gm:
        for i in range(n):
            seen = gm.collections_seen
            t0 = perf_counter_ns()
            try:
                result = func()
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                raise _failed(component, i, n, exc) from exc
            t1 = perf_counter_ns()
            lat.append((t1 - t0) / 1e6)
            over.append(gm.collections_seen != seen)
        gm.operations = n
    return dataclasses.replace(gm.report, latency=latency_impact(lat, over))
