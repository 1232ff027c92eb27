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
from dataclasses import dataclass
from typing import Any

from memwatch.config.lifecycle import Pending, component_operation, in_running_loop, is_async_callable
from memwatch.config.options import LeakOptions, leak_options
from memwatch.errors import ConfigError, UsageError
from memwatch.leaks import caches
from memwatch.leaks.attribution import Attribution, attribute
from memwatch.leaks.engine import CONFIRMING, DECIDING, Measurement, Plan, measure
from memwatch.leaks.operation import Operation, drive, target_name
from memwatch.leaks.progress import with_progress
from memwatch.leaks.verdict import build_report
from memwatch.model.leaks import LeakReport

__all__ = ["MemoryLeakDetector", "adetect_leaks", "detect_leaks"]

MAX_ITERATIONS = 100_000_000
_ACTIVE = threading.Lock()


def _plan(iterations: Any, warmup: Any, time_budget: float, signals: Any) -> Plan:
    for name, value, low in (("iterations", iterations, 1), ("warmup", warmup, 0)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name} must be a whole number, got {value!r}")
        if value < low or value > MAX_ITERATIONS:
            raise ConfigError(f"{name}={value} is out of range: use {low} to {MAX_ITERATIONS:,}")
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
    return Plan(iterations=iterations, warmup=warmup, time_budget=time_budget, signals=chosen)


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


#: the keyword arguments of detect_leaks that are engine options (None: not given)
_OPTION_NAMES = (
    "iterations",
    "warmup",
    "max_growth",
    "signals",
    "time_budget",
    "reset_caches",
    "attribute",
    "severity",
)


def resolve(explicit: dict[str, Any], options: LeakOptions | None) -> LeakOptions:
    """The options a detection runs with: explicit arguments over ``options`` (a door's
    resolved options), else over the config file found from here and the schema's defaults."""
    if options is not None:
        return leak_options(explicit, base=options)
    from memwatch.config.schema import load_config

    return leak_options(explicit, config=load_config())


def _explicit(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The engine options among a door's arguments (its ``locals()``), None where not given."""
    return {name: arguments[name] for name in _OPTION_NAMES}


@dataclass
class _Start:
    """One detection, ready to drive: the operation, its options, the protocol and its clock."""

    op: Operation
    opts: LeakOptions
    protocol: Generator[int, None, Any]
    began: float


def _start(
    func: Callable[..., Any],
    args: Sequence[Any],
    kwargs: Mapping[str, Any] | None,
    setup: Callable[[], Any] | None,
    teardown: Callable[[], Any] | None,
    expected_exceptions: tuple[type[BaseException], ...],
    explicit: dict[str, Any],
    options: LeakOptions | None,
) -> _Start:
    """Resolve the options, build the operation and the measurement protocol (on a
    terminal, a verdict that takes more than a second shows a live line)."""
    opts = resolve(explicit, options)
    op = Operation(
        func, args, kwargs, setup=setup, teardown=teardown, expected_exceptions=expected_exceptions
    )
    plan = _plan(opts.iterations, opts.warmup, opts.time_budget, opts.signals)
    protocol = with_progress(
        _protocol(plan, opts.attribute, opts.reset_caches), f"memwatch: {target_name(func)}"
    )
    return _Start(op, opts, protocol, time.perf_counter())


def detect_leaks(
    func: Callable[..., Any],
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    setup: Callable[[], Any] | None = None,
    teardown: Callable[[], Any] | None = None,
    iterations: int | None = None,
    warmup: int | None = None,
    max_growth: str | int | None = None,
    signals: Sequence[str] | None = None,
    time_budget: float | str | None = None,
    expected_exceptions: tuple[type[BaseException], ...] = (),
    reset_caches: bool | None = None,
    attribute: bool | None = None,
    severity: Mapping[str, str | int] | None = None,
    options: LeakOptions | None = None,
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
    calls from which a leak is ``minor``/``major``/``critical``.

    An option left None comes from ``options`` (options a door resolved with
    :func:`memwatch.config.options.leak_options`), else from the ``leaks`` section of the
    config file found from the current folder (memwatch.yaml / pyproject.toml), else from
    the schema's defaults (1 MB per 1,000 calls, 10 s, severity 5/20/50 MB).
    A coroutine function is run in a fresh event loop;
    inside a running loop use :func:`adetect_leaks`. An unexpected exception from
    ``func`` raises :class:`~memwatch.errors.OperationError` (no verdict).
    """
    run = _start(func, args, kwargs, setup, teardown, expected_exceptions, _explicit(locals()), options)
    if run.op.is_async or is_async_callable(setup) or is_async_callable(teardown):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            run.protocol.close()
            raise UsageError(
                "detect_leaks() was called inside a running event loop; use `await adetect_leaks(...)` there"
            )
        outcome = asyncio.run(_adrive(run.protocol, run.op))
    else:
        outcome = drive(run.protocol, run.op.run)
    return _report(func, outcome, run)


def _report(func: Callable[..., Any], outcome: Any, run: _Start) -> LeakReport:
    measurement, window, notes = outcome
    return build_report(
        target_name(func),
        measurement,
        window,
        notes,
        budget=run.opts.max_growth,
        duration=time.perf_counter() - run.began,
        expected_raised=run.op.expected_raised,
        thresholds=dict(run.opts.severity),
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
    max_growth: str | int | None = None,
    signals: Sequence[str] | None = None,
    time_budget: float | str | None = None,
    expected_exceptions: tuple[type[BaseException], ...] = (),
    reset_caches: bool | None = None,
    attribute: bool | None = None,
    severity: Mapping[str, str | int] | None = None,
    options: LeakOptions | None = None,
) -> LeakReport:
    """:func:`detect_leaks` for use inside a running event loop (awaits ``func``)."""
    run = _start(func, args, kwargs, setup, teardown, expected_exceptions, _explicit(locals()), options)
    run.op.is_async = True  # arun awaits only what is awaitable
    outcome = await _adrive(run.protocol, run.op)
    return _report(func, outcome, run)


class MemoryLeakDetector:
    """Leak checks with shared options, and the component lifecycle mode.

    ``detect_leaks_in_component(factory, operation)`` repeats one component's life
    (:func:`memwatch.config.lifecycle.component_operation`): create it with ``factory()``,
    run ``operation(component)``, close it (``aclose()``, ``close()``, ``shutdown()`` or
    ``stop()``, whichever exists) and drop it, exactly ``iterations`` times when given.
    From plain code it returns the :class:`~memwatch.model.leaks.LeakReport` (a coroutine
    when the operation or the factory is async, for ``asyncio.run``); called
    inside a running event loop (async code, as the seed documents write it) it returns
    an awaitable (:class:`~memwatch.config.lifecycle.Pending`) whatever the operation is:
    ``await`` it, and sync and async operations, factories and closes all work. Options
    left None resolve as in :func:`detect_leaks`.
    """

    def __init__(
        self,
        *,
        max_growth: str | int | None = None,
        time_budget: float | str | None = None,
        reset_caches: bool | None = None,
        attribute: bool | None = None,
        options: LeakOptions | None = None,
    ) -> None:
        self.max_growth = max_growth
        self.time_budget = time_budget
        self.reset_caches = reset_caches
        self.attribute = attribute
        self.options = options

    def _options(self, iterations: int | None) -> dict[str, Any]:
        return {
            "iterations": iterations,
            "max_growth": self.max_growth,
            "time_budget": self.time_budget,
            "reset_caches": self.reset_caches,
            "attribute": self.attribute,
            "options": self.options,
        }

    def detect_leaks(
        self, func: Callable[..., Any], *args: Any, iterations: int | None = None, **kwargs: Any
    ) -> LeakReport:
        return detect_leaks(func, args, kwargs, **self._options(iterations))

    def detect_leaks_in_component(
        self,
        component_factory: Callable[[], Any],
        operation_func: Callable[[Any], Any],
        iterations: int | None = None,
    ) -> Any:
        if not callable(component_factory) or not callable(operation_func):
            raise ConfigError(
                "detect_leaks_in_component needs a component factory and an operation function, both callable"
            )
        looping = in_running_loop()
        cycle = component_operation(operation_func, component_factory, force_async=looping)
        if looping:
            return Pending(adetect_leaks(cycle, **self._options(iterations)), "detect_leaks_in_component")
        if is_async_callable(cycle):
            return adetect_leaks(cycle, **self._options(iterations))
        return detect_leaks(cycle, **self._options(iterations))
