"""Run a test body through the leak engine, its fixtures set up once.

The plugin swaps ``item.obj`` for a *looped* body during the call phase: whoever
calls the test function (pytest itself, pytest-asyncio, which synchronises the looped
coroutine function into one event-loop run, anyio's runner) calls the looped body
instead, with the same fixture values, and the looped body hands the real one to
:func:`memwatch.leaks.runner.detect_leaks` (``adetect_leaks`` for a coroutine function,
inside the test's own event loop, so each call is a plain ``await``).

A body that raises inside the loop raises its own exception (the engine's
``OperationError`` is unwrapped), so pytest reports the test's error, not a leak.
Options: the marker's arguments over ``[tool.memwatch] leaks`` over the defaults, merged
by :func:`memwatch.config.options.leak_options` like every other door.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from memwatch.errors import ConfigError, MemwatchError, OperationError
from memwatch.plugin import keys
from memwatch.plugin.checks import LeakResult, warn_inconclusive
from memwatch.plugin.options import PluginSettings
from memwatch.plugin.specs import LeakSpec

if TYPE_CHECKING:
    from memwatch.config.options import LeakOptions
    from memwatch.config.schema import Config

__all__ = ["CONFIG", "LoopOutcome", "engine_options", "leak_spec_for", "looped_body", "run_config"]

#: the [tool.memwatch] / memwatch.yaml configuration of the run (set when the plugin activates)
CONFIG = pytest.StashKey["Config | None"]()


def run_config(config: pytest.Config) -> Config | None:
    """``[tool.memwatch]`` / memwatch.yaml of the run (None: none, defaults), loaded once.

    Loaded only when a test needs it (``no_leaks``, ``memory_gc``, ``--memwatch-leaks``,
    the ``memwatch`` fixture): it imports pydantic, which a plain ``--memwatch`` run
    does not need. A bad file is a usage error.
    """
    if CONFIG in config.stash:
        return config.stash[CONFIG]
    from memwatch.config.find import find_config

    try:
        found = find_config(config.rootpath)
        loaded = None
        if found is not None:
            from memwatch.config.schema import load_config

            loaded = load_config(found)
    except MemwatchError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[CONFIG] = loaded
    return loaded


@dataclass
class LoopOutcome:
    """Filled in by the looped body once the engine has a verdict."""

    result: LeakResult | None = None


def leak_spec_for(
    item: pytest.Function, state: keys.ItemState | None, settings: PluginSettings
) -> LeakSpec | None:
    """The ``no_leaks`` arguments for this test, ``LeakSpec()`` under ``--memwatch-leaks``, else None."""
    if state is not None and state.marker_error is not None:
        return None
    spec = state.checks.no_leaks if state is not None and state.checks is not None else None
    if spec is None and settings.leaks:
        spec = LeakSpec()
    if spec is not None and getattr(item.obj, "hypothesis", None) is not None:
        return None  # hypothesis already calls the body many times with other inputs
    return spec


def engine_options(spec: LeakSpec, config: Config | None) -> LeakOptions:
    """The leak engine's options for a ``no_leaks`` test: the marker's, else the config file's."""
    from dataclasses import asdict

    from memwatch.config.options import leak_options

    return leak_options(door=asdict(spec), config=config)


def _reraise(exc: MemwatchError, nodeid: str) -> NoReturn:
    """Raise the test's own exception (called outside the ``except`` block: no chained context)."""
    if isinstance(exc, OperationError) and isinstance(exc.original, BaseException):
        original = exc.original
        original.__cause__ = original.__context__ = None
        raise original.with_traceback(original.__traceback__)
    if isinstance(exc, ConfigError):  # e.g. a signal name the engine does not know
        pytest.fail(f"memwatch usage error: {nodeid}: @pytest.mark.no_leaks: {exc}", pytrace=False)
    raise exc


@contextlib.contextmanager
def _quiet_subtests(body: Callable[..., Any]) -> Iterator[None]:
    """Inside the loop, a unittest test's ``subTest`` blocks report nothing.

    Each ``subTest`` of a ``unittest.TestCase`` method sends a report to pytest, which
    keeps it (terminal statistics): looped a thousand times, that is pytest's memory
    growing, not the test's. With the case's ``_outcome`` unset, ``subTest`` is a plain
    block, as when a method is called outside ``run()``; a failing sub-test then raises,
    and the test fails with that error.
    """
    case = getattr(body, "__self__", None)
    unittest = sys.modules.get("unittest")
    if unittest is None or not isinstance(case, unittest.TestCase) or not hasattr(case, "_outcome"):
        yield
        return
    saved = case._outcome
    case._outcome = None
    try:
        yield
    finally:
        case._outcome = saved


def looped_body(
    original: Callable[..., Any], spec: LeakSpec, config: pytest.Config, nodeid: str
) -> tuple[Callable[..., Any], LoopOutcome]:
    """A stand-in for the test function that runs it through the leak engine."""
    options = engine_options(spec, run_config(config))
    outcome = LoopOutcome()
    max_growth = options.max_growth

    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def looped_async(*args: Any, **call_kwargs: Any) -> None:
            from memwatch.leaks.runner import adetect_leaks

            try:
                report = await adetect_leaks(original, args, call_kwargs, options=options)
            except (OperationError, ConfigError) as exc:
                error: MemwatchError = exc
            else:
                outcome.result = LeakResult(report, max_growth)
                warn_inconclusive(report)
                return
            _reraise(error, nodeid)

        return looped_async, outcome

    @functools.wraps(original)
    def looped(*args: Any, **call_kwargs: Any) -> None:
        from memwatch.leaks.runner import detect_leaks

        try:
            with _quiet_subtests(original):
                report = detect_leaks(original, args, call_kwargs, options=options)
        except (OperationError, ConfigError) as exc:
            error: MemwatchError = exc
        else:
            outcome.result = LeakResult(report, max_growth)
            warn_inconclusive(report)
            return
        _reraise(error, nodeid)

    return looped, outcome
