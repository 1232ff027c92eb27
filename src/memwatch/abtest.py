"""Measure what one operation costs in memory, with repeated samples; compare two of them.

:func:`measure_operation` calls the operation in batches. For each sample it
collects garbage, starts from a clean tracemalloc peak, runs one batch, and
records

- ``peak``: the highest Python-heap bytes above the start during the batch
  (tracemalloc peak; exact for Python allocations, blind to native memory),
- ``growth``: bytes still held after the batch and a full collection, per call,
- ``time``: seconds per call (wall clock; tracemalloc slows allocation, so use
  it to compare, not as an absolute speed),
- ``native_peak`` is not sampled: native memory has no cheap peak counter.

:func:`compare_implementations` alternates A and B sample by sample (ABAB...) so
that machine noise hits both alike, and judges each metric with
:func:`memwatch.stats.compare.compare_samples`.
"""

from __future__ import annotations

import gc
import inspect
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from memwatch.errors import ConfigError, OperationError

__all__ = ["METRIC_UNITS", "OperationSamples", "measure_operation", "measure_pair"]

METRIC_UNITS = {"peak": "bytes", "growth": "bytes", "time": "seconds"}


@dataclass(frozen=True)
class OperationSamples:
    """Repeated samples of one operation; each list has one value per sample."""

    target: str
    batch: int
    peak: tuple[float, ...]
    growth: tuple[float, ...]
    time: tuple[float, ...]

    def metric(self, name: str) -> tuple[float, ...]:
        value: tuple[float, ...] = getattr(self, name)
        return value


def _target_name(func: Callable[..., Any]) -> str:
    module = getattr(func, "__module__", None) or "?"
    return f"{module}:{getattr(func, '__qualname__', repr(func))}"


def _check(samples: int, batch: int) -> None:
    if not isinstance(samples, int) or samples < 2:
        raise ConfigError(f"samples must be an integer >= 2, got {samples!r}")
    if not isinstance(batch, int) or batch < 1:
        raise ConfigError(f"batch must be a positive integer, got {batch!r}")


class _Sampler:
    def __init__(self, func: Callable[..., Any], args: tuple[Any, ...], batch: int) -> None:
        if inspect.iscoroutinefunction(func):
            raise ConfigError(f"{_target_name(func)} is async; wrap it with asyncio.run for measuring")
        self.func, self.args, self.batch = func, args, batch

    def once(self) -> tuple[float, float, float]:
        gc.collect()
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        t0 = time.perf_counter()
        try:
            for _ in range(self.batch):
                self.func(*self.args)
        except Exception as exc:
            import traceback

            raise OperationError(f"{_target_name(self.func)} raised {type(exc).__name__}: {exc}",
                                 original=exc, traceback_text=traceback.format_exc()) from exc
        elapsed = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] - start
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - start
        return float(peak), retained / self.batch, elapsed / self.batch


def _traced(fn: Callable[[], Any]) -> Any:
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start(1)
    try:
        return fn()
    finally:
        if started:
            tracemalloc.stop()


def measure_operation(func: Callable[..., Any], args: tuple[Any, ...] = (), *, samples: int = 7,
                      batch: int = 10, warmup: int = 1) -> OperationSamples:
    """``samples`` samples of ``batch`` calls each, after ``warmup`` unrecorded batches."""
    _check(samples, batch)
    sampler = _Sampler(func, args, batch)

    def run() -> OperationSamples:
        for _ in range(warmup):
            sampler.once()
        values = [sampler.once() for _ in range(samples)]
        return OperationSamples(_target_name(func), batch, *map(tuple, zip(*values, strict=True)))

    result: OperationSamples = _traced(run)
    return result


def measure_pair(a: Callable[..., Any], b: Callable[..., Any], args: tuple[Any, ...] = (), *,
                 samples: int = 7, batch: int = 10,
                 warmup: int = 1) -> tuple[OperationSamples, OperationSamples]:
    """Samples of A and B taken alternately (A B A B ...) on the same input."""
    _check(samples, batch)
    sa, sb = _Sampler(a, args, batch), _Sampler(b, args, batch)

    def run() -> tuple[OperationSamples, OperationSamples]:
        for _ in range(warmup):
            sa.once()
            sb.once()
        va, vb = [], []
        for _ in range(samples):
            va.append(sa.once())
            vb.append(sb.once())
        return (OperationSamples(_target_name(a), batch, *map(tuple, zip(*va, strict=True))),
                OperationSamples(_target_name(b), batch, *map(tuple, zip(*vb, strict=True))))

    pair: tuple[OperationSamples, OperationSamples] = _traced(run)
    return pair
