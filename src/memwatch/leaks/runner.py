"""``detect_leaks``: repeat an operation, decide with statistics, attribute what leaks.

The measurement protocol lives in :mod:`memwatch.leaks.engine`, attribution in
:mod:`memwatch.leaks.attribution`; this module validates arguments, drives both
(synchronously, or inside an event loop for coroutine functions) and assembles the
:class:`~memwatch.model.leaks.LeakReport`.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any

from memwatch.errors import ConfigError, UsageError
from memwatch.leaks import caches
from memwatch.leaks.attribution import Attribution, attribute
from memwatch.leaks.engine import CONFIRMING, DECIDING, Measurement, Plan, measure
from memwatch.leaks.operation import Operation, drive, is_async_callable, target_name
from memwatch.leaks.verdict import build_report
from memwatch.model.leaks import DEFAULT_SEVERITY, LeakReport
from memwatch.units import Size, parse_duration, parse_size

__all__ = ["MemoryLeakDetector", "adetect_leaks", "detect_leaks"]

MAX_ITERATIONS = 100_000_000
_ACTIVE = threading.Lock()


def _plan(iterations: Any, warmup: Any, time_budget: Any, signals: Any) -> Plan:
    for name, value, low in (("iterations", iterations, 1), ("warmup", warmup, 0)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name} must be a whole number, got {value!r}")
        if value < low or value > MAX_ITERATIONS:
            raise ConfigError(f"{name}={value} is out of range: use {low} to {MAX_ITERATIONS:,}")
    budget = parse_duration(time_budget)
    known = DECIDING + CONFIRMING
    if signals is None:
        chosen = known
    else:
        if isinstance(signals, str) or not isinstance(signals, Sequence):
            raise ConfigError(f"signals must be a list of names from {', '.join(known)}")
        unknown = [s for s in signals if s not in known]
        if unknown:
            raise ConfigError(f"unknown signal(s) {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
        chosen = tuple(s for s in known if s in signals)
        if not any(s in DECIDING for s in chosen):
            raise ConfigError(
                f"signals must include at least one of {', '.join(DECIDING)} (rss never decides alone)"
            )
    return Plan(iterations=iterations, warmup=warmup, time_budget=budget, signals=chosen)


def _thresholds(severity: Mapping[str, str | int] | None) -> dict[str, int]:
    out = dict(DEFAULT_SEVERITY)
    if severity is None:
        return out
    if not isinstance(severity, Mapping):
        raise ConfigError("severity must map minor/major/critical to sizes, e.g. {'minor': '5 MB'}")
    unknown = set(severity) - set(out)
    if unknown:
        raise ConfigError(
            f"unknown severity level(s) {', '.join(sorted(map(str, unknown)))}; use minor, major, critical"
        )
    out.update({level: parse_size(value) for level, value in severity.items()})
    if not out["minor"] <= out["major"] <= out["critical"]:
        raise ConfigError(
            f"severity thresholds must grow: minor {out['minor']} <= major "
            f"{out['major']} <= critical {out['critical']}"
        )
    return out


def _protocol(
    plan: Plan, attribute_leaks: bool, reset: bool
) -> Generator[int, None, tuple[Measurement, Attribution | None, list[str]]]:
    # gc.freeze and tracemalloc are process-wide: two detections cannot overlap.
    if not _ACTIVE.acquire(blocking=False):
        raise UsageError(
            "another leak detection is running in this process; detections "
            "cannot overlap (they freeze the collector and trace allocations "
            "process-wide)"
        )
    try:
        began = time.perf_counter()
        notes: list[str] = []
        if reset:
            notes.extend(caches.reset_caches())
        # gc.freeze() makes the per-round full collection cheap; only when nobody else froze.
        freeze = gc.get_freeze_count() == 0
        try:
            result = yield from measure(plan, freeze=freeze)
            window: Attribution | None = None
            if result.finding == "growing":
                # A native leak has no Python objects to attribute: only the confirmation window.
                detail = attribute_leaks and result.signal != "native_heap"
                left = plan.time_budget - (time.perf_counter() - began)
                window = yield from attribute(result.batch, detail=detail, freeze=freeze, seconds=left)
        finally:
            if freeze:
                gc.unfreeze()
        return result, window, notes
    finally:
        _ACTIVE.release()


def _prepare(
    func: Callable[..., Any],
    args: Sequence[Any],
    kwargs: Mapping[str, Any] | None,
    setup: Callable[[], Any] | None,
    teardown: Callable[[], Any] | None,
    iterations: Any,
    warmup: Any,
    max_growth: Any,
    signals: Any,
    time_budget: Any,
    expected_exceptions: tuple[type[BaseException], ...],
) -> tuple[Operation, Plan, int]:
    op = Operation(
        func, args, kwargs, setup=setup, teardown=teardown, expected_exceptions=expected_exceptions
    )
    plan = _plan(iterations, warmup, time_budget, signals)
    budget = Size.parse(max_growth)  # keeps the text it was typed as, for the report
    return op, plan, budget


def detect_leaks(
    func: Callable[..., Any],
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    setup: Callable[[], Any] | None = None,
    teardown: Callable[[], Any] | None = None,
    iterations: int | None = None,
    warmup: int | None = None,
    max_growth: str | int = "1 MB",
    signals: Sequence[str] | None = None,
    time_budget: float | str = 10.0,
    expected_exceptions: tuple[type[BaseException], ...] = (),
    reset_caches: bool = True,
    attribute: bool = True,
    severity: Mapping[str, str | int] | None = None,
) -> LeakReport:
    """Call ``func`` repeatedly and decide, with statistics, whether it leaks memory.

    ``iterations`` caps the measured calls (None: adaptive, stop when confident);
    ``warmup`` fixes the warm-up calls (None: until the signals settle; the first call,
    which times the operation, always happens and counts as warm-up);
    ``max_growth`` is the budget per 1,000 calls (``report.passed``,
    ``report.raise_for_leaks()``); ``signals`` restricts the signals read
    (``py_blocks``, ``native_heap``, ``fds``, ``threads``, ``rss``);
    ``expected_exceptions`` are swallowed so error paths can be measured;
    ``reset_caches`` clears the caches the interpreter fills on its own first
    (:mod:`memwatch.leaks.caches`); ``attribute=False`` skips allocation sites,
    types and retention paths; ``severity`` overrides the projected growth per 1,000
    calls from which a leak is ``minor``/``major``/``critical`` (defaults 5/20/50 MB).
    A coroutine function is run in a fresh event loop;
    inside a running loop use :func:`adetect_leaks`. An unexpected exception from
    ``func`` raises :class:`~memwatch.errors.OperationError` (no verdict).
    """
    op, plan, budget = _prepare(
        func,
        args,
        kwargs,
        setup,
        teardown,
        iterations,
        warmup,
        max_growth,
        signals,
        time_budget,
        expected_exceptions,
    )
    thresholds = _thresholds(severity)
    began = time.perf_counter()
    if op.is_async or is_async_callable(setup) or is_async_callable(teardown):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise UsageError(
                "detect_leaks() was called inside a running event loop; use `await adetect_leaks(...)` there"
            )
        outcome = asyncio.run(_adrive(_protocol(plan, attribute, reset_caches), op))
    else:
        outcome = drive(_protocol(plan, attribute, reset_caches), op.run)
    measurement, window, notes = outcome
    return build_report(
        target_name(func),
        measurement,
        window,
        notes,
        budget=budget,
        duration=time.perf_counter() - began,
        expected_raised=op.expected_raised,
        thresholds=thresholds,
    )


async def _adrive(steps: Generator[int, None, Any], op: Operation) -> Any:
    """Run a measurement protocol inside the running loop: each yielded n is awaited calls."""
    try:
        request = next(steps)
        while True:
            await op.arun(request)
            request = steps.send(None)
    except StopIteration as stop:
        return stop.value
    finally:
        steps.close()


async def adetect_leaks(
    func: Callable[..., Any],
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    setup: Callable[[], Any] | None = None,
    teardown: Callable[[], Any] | None = None,
    iterations: int | None = None,
    warmup: int | None = None,
    max_growth: str | int = "1 MB",
    signals: Sequence[str] | None = None,
    time_budget: float | str = 10.0,
    expected_exceptions: tuple[type[BaseException], ...] = (),
    reset_caches: bool = True,
    attribute: bool = True,
    severity: Mapping[str, str | int] | None = None,
) -> LeakReport:
    """:func:`detect_leaks` for use inside a running event loop (awaits ``func``)."""
    op, plan, budget = _prepare(
        func,
        args,
        kwargs,
        setup,
        teardown,
        iterations,
        warmup,
        max_growth,
        signals,
        time_budget,
        expected_exceptions,
    )
    thresholds = _thresholds(severity)
    began = time.perf_counter()
    if not op.is_async:
        op.is_async = True  # arun awaits only what is awaitable
    measurement, window, notes = await _adrive(_protocol(plan, attribute, reset_caches), op)
    return build_report(
        target_name(func),
        measurement,
        window,
        notes,
        budget=budget,
        duration=time.perf_counter() - began,
        expected_raised=op.expected_raised,
        thresholds=thresholds,
    )


class MemoryLeakDetector:
    """Leak checks with shared defaults, and the component lifecycle mode.

    ``detect_leaks_in_component(factory, operation)`` repeats: create a component
    with ``factory()``, run ``operation(component)``, shut it down (``aclose()``,
    ``close()``, ``shutdown()`` or ``stop()``, whichever exists) and drop it. It
    returns a coroutine when ``operation`` (or the factory) is async.
    """

    def __init__(
        self,
        *,
        max_growth: str | int = "1 MB",
        time_budget: float | str = 10.0,
        reset_caches: bool = True,
        attribute: bool = True,
    ) -> None:
        self.max_growth = max_growth
        self.time_budget = time_budget
        self.reset_caches = reset_caches
        self.attribute = attribute

    def detect_leaks(
        self, func: Callable[..., Any], *args: Any, iterations: int | None = None, **kwargs: Any
    ) -> LeakReport:
        return detect_leaks(
            func,
            args,
            kwargs,
            iterations=iterations,
            max_growth=self.max_growth,
            time_budget=self.time_budget,
            reset_caches=self.reset_caches,
            attribute=self.attribute,
        )

    def detect_leaks_in_component(
        self,
        component_factory: Callable[[], Any],
        operation_func: Callable[[Any], Any],
        iterations: int | None = 100,
    ) -> Any:
        if not callable(component_factory) or not callable(operation_func):
            raise ConfigError(
                "detect_leaks_in_component needs a component factory and an operation function, both callable"
            )
        options: dict[str, Any] = {
            "iterations": iterations,
            "max_growth": self.max_growth,
            "time_budget": self.time_budget,
            "reset_caches": self.reset_caches,
            "attribute": self.attribute,
        }
        if is_async_callable(operation_func) or is_async_callable(component_factory):

            async def acycle() -> None:
                component = component_factory()
                if asyncio.iscoroutine(component):
                    component = await component
                try:
                    await operation_func(component)
                finally:
                    await _ashutdown(component)

            acycle.__qualname__ = target_name(operation_func).split(":", 1)[1]
            return adetect_leaks(acycle, **options)

        def cycle() -> None:
            component = component_factory()
            try:
                operation_func(component)
            finally:
                _shutdown(component)

        cycle.__qualname__ = target_name(operation_func).split(":", 1)[1]
        cycle.__module__ = getattr(operation_func, "__module__", "?")
        return detect_leaks(cycle, **options)


_SHUTDOWN = ("close", "shutdown", "stop")


def _shutdown(component: Any) -> None:
    for name in _SHUTDOWN:
        method = getattr(component, name, None)
        if callable(method):
            method()
            return


async def _ashutdown(component: Any) -> None:
    for name in ("aclose", *_SHUTDOWN):
        method = getattr(component, name, None)
        if callable(method):
            result = method()
            if asyncio.iscoroutine(result):
                await result
            return
