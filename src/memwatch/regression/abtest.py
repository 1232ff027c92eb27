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
from typing import TYPE_CHECKING, Any

from memwatch.errors import ConfigError, OperationError

if TYPE_CHECKING:
    from memwatch.model.abtest import ABComparison

__all__ = ["METRIC_UNITS", "OperationSamples", "compare_implementations", "measure_operation", "measure_pair"]

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
        """One batch. The caller starts from a collected heap; each batch ends with a
        collection, which is the next batch's clean start (one collection per sample)."""
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        t0 = time.perf_counter()
        try:
            for _ in range(self.batch):
                self.func(*self.args)
        except Exception as exc:
            import traceback

            raise OperationError(
                f"{_target_name(self.func)} raised {type(exc).__name__}: {exc}",
                original=exc,
                traceback_text=traceback.format_exc(),
            ) from exc
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


def measure_operation(
    func: Callable[..., Any],
    args: tuple[Any, ...] = (),
    *,
    samples: int = 7,
    batch: int = 10,
    warmup: int = 1,
) -> OperationSamples:
    """``samples`` samples of ``batch`` calls each, after ``warmup`` unrecorded batches."""
    _check(samples, batch)
    sampler = _Sampler(func, args, batch)

    def run() -> OperationSamples:
        gc.collect()
        for _ in range(warmup):
            sampler.once()
        values = [sampler.once() for _ in range(samples)]
        return OperationSamples(_target_name(func), batch, *map(tuple, zip(*values, strict=True)))

    result: OperationSamples = _traced(run)
    return result


def measure_pair(
    a: Callable[..., Any],
    b: Callable[..., Any],
    args: tuple[Any, ...] = (),
    *,
    samples: int = 7,
    batch: int = 10,
    warmup: int = 1,
) -> tuple[OperationSamples, OperationSamples]:
    """Samples of A and B taken alternately (A B A B ...) on the same input."""
    _check(samples, batch)
    sa, sb = _Sampler(a, args, batch), _Sampler(b, args, batch)

    def run() -> tuple[OperationSamples, OperationSamples]:
        gc.collect()
        for _ in range(warmup):
            sa.once()
            sb.once()
        va, vb = [], []
        for _ in range(samples):
            va.append(sa.once())
            vb.append(sb.once())
        return (
            OperationSamples(_target_name(a), batch, *map(tuple, zip(*va, strict=True))),
            OperationSamples(_target_name(b), batch, *map(tuple, zip(*vb, strict=True))),
        )

    pair: tuple[OperationSamples, OperationSamples] = _traced(run)
    return pair


def compare_implementations(
    a: Callable[..., Any],
    b: Callable[..., Any],
    args: tuple[Any, ...] = (),
    *,
    samples: int = 9,
    batch: int = 10,
    tolerance: float = 0.05,
    floor: float = 256.0,
    alpha: float = 0.05,
) -> ABComparison:
    """Measure A and B alternately on the same input; judge peak, growth and time.

    A change counts only when the relative ``tolerance``, the absolute ``floor``
    (bytes, for the memory metrics) and the Mann–Whitney test at ``alpha`` agree.
    """
    from memwatch.model.abtest import ABComparison, ABMetric
    from memwatch.stats.compare import decide_change

    sa, sb = measure_pair(a, b, args, samples=samples, batch=batch)
    metrics = []
    for name, unit in METRIC_UNITS.items():
        xa, xb = sa.metric(name), sb.metric(name)
        decision = decide_change(
            xa, xb, rel_tol=tolerance, alpha=alpha, unit=unit, abs_floor=floor if unit == "bytes" else 0.0
        )
        verdict: Any = "no difference"
        if decision.counts:
            verdict = "b worse" if decision.direction == "increase" else "b better"
        ratio = (decision.current_median / decision.baseline_median) if decision.baseline_median else None
        metrics.append(
            ABMetric(
                metric=name,
                unit=unit,
                a=xa,
                b=xb,
                a_median=decision.baseline_median,
                b_median=decision.current_median,
                delta=decision.absolute,
                ratio=ratio,
                ci_low=decision.ci[0] if decision.ci else None,
                ci_high=decision.ci[1] if decision.ci else None,
                p_value=decision.p_value,
                verdict=verdict,
                reasons=decision.reasons,
            )
        )
    return ABComparison(
        a=sa.target,
        b=sb.target,
        samples=samples,
        batch=batch,
        metrics=tuple(metrics),
        tolerance=tolerance,
        alpha=alpha,
    )
