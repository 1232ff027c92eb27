"""A component's lifecycle: the one way every check calls a configured operation.

A validation component names an ``operation`` and, optionally, a ``factory``. With a
factory, one call of the operation is one life of a component::

    component = factory()            # awaited when the factory is async
    operation(component)             # awaited when the operation is async
    component.aclose() / close() / shutdown() / stop()   # the first that exists, awaited if needed

so what a component keeps after it is closed is what a check sees. Without a factory the
operation is called with no arguments. :func:`component_operation` builds that call (a
coroutine function when anything in it is async); :func:`sync_calls` turns a coroutine
function into a plain callable that runs each call in one event loop kept for the block,
for engines that time or trace plain calls.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from memwatch.errors import ConfigError, UsageError

__all__ = [
    "CLOSE_METHODS",
    "Pending",
    "aclose_component",
    "close_component",
    "component_operation",
    "in_running_loop",
    "is_async_callable",
    "sync_calls",
]

#: tried in this order; ``aclose`` only where the lifecycle runs in an event loop
CLOSE_METHODS = ("close", "shutdown", "stop")


def is_async_callable(func: Any) -> bool:
    """True for ``async def`` functions (and callables whose ``__call__`` is one)."""
    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(func, "__call__", None)  # noqa: B004 - we want the bound method
    return call is not None and inspect.iscoroutinefunction(call)


def close_component(component: Any) -> None:
    """Close a component synchronously: ``close()``, ``shutdown()`` or ``stop()``; a close that
    hands back an awaitable (or only ``aclose()``) is run to completion in a fresh loop."""
    for name in CLOSE_METHODS:
        method = getattr(component, name, None)
        if callable(method):
            result = method()
            if inspect.isawaitable(result):
                asyncio.run(_await(result))
            return
    aclose = getattr(component, "aclose", None)
    if callable(aclose):
        asyncio.run(_await(aclose()))


async def aclose_component(component: Any) -> None:
    """Close a component inside a running loop: ``aclose()`` first, then the plain names."""
    for name in ("aclose", *CLOSE_METHODS):
        method = getattr(component, name, None)
        if callable(method):
            result = method()
            if inspect.isawaitable(result):
                await result
            return


async def _await(value: Any) -> Any:
    return await value


def _name_like(wrapper: Callable[..., Any], operation: Callable[..., Any]) -> None:
    wrapper.__qualname__ = getattr(operation, "__qualname__", getattr(operation, "__name__", "operation"))
    wrapper.__name__ = getattr(operation, "__name__", "operation")
    wrapper.__module__ = getattr(operation, "__module__", None) or "?"


def component_operation(
    operation: Callable[..., Any], factory: Callable[[], Any] | None = None, *, force_async: bool = False
) -> Callable[[], Any]:
    """The call a check repeats: ``operation()``, or one component lifecycle with ``factory``.

    The result is a coroutine function when the operation or the factory is async (or
    ``force_async``: inside a running loop, where a plain function's awaitable result and
    an async ``close()`` can be awaited); it carries the operation's name (reports name
    the operation, not the wrapper). A plain lifecycle whose operation hands back an
    awaitable raises :class:`~memwatch.errors.ConfigError` (it would measure nothing)."""
    if factory is None:
        return operation
    if force_async or is_async_callable(operation) or is_async_callable(factory):

        async def acycle() -> None:
            component = factory()
            if inspect.isawaitable(component):
                component = await component
            try:
                result = operation(component)
                if inspect.isawaitable(result):
                    await result
            finally:
                await aclose_component(component)

        _name_like(acycle, operation)
        return acycle

    def cycle() -> None:
        component = factory()
        try:
            result = operation(component)
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()
                raise ConfigError(
                    f"operation {getattr(operation, '__name__', 'operation')!r} returned an awaitable "
                    "outside an event loop: make it `async def`, or await the check inside async code"
                )
        finally:
            close_component(component)

    _name_like(cycle, operation)
    return cycle


@contextmanager
def sync_calls(func: Callable[[], Any]) -> Iterator[Callable[[], Any]]:
    """``func`` as a plain callable: a coroutine function runs each call to completion in one
    event loop, kept open for the block (so a component's loop-bound state stays valid)."""
    if not is_async_callable(func):
        yield func
        return
    loop = asyncio.new_event_loop()

    def call() -> Any:
        return loop.run_until_complete(func())

    _name_like(call, func)
    try:
        yield call
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def in_running_loop() -> bool:
    """True when called from code an event loop is running (an ``async def`` test or app)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class Pending:
    """A check started inside a running event loop: ``await`` it for its result.

    The seed documents ``await`` checks that memwatch runs synchronously; called from async
    code, those checks hand back a ``Pending`` instead of blocking the loop. Reading a
    result attribute from it without ``await`` raises :class:`~memwatch.errors.UsageError`
    naming the fix; a ``Pending`` never awaited is closed without a warning.
    """

    __slots__ = ("_awaitable", "_awaited", "_what")

    def __init__(self, awaitable: Any, what: str) -> None:
        self._awaitable = awaitable
        self._what = what
        self._awaited = False

    def __await__(self) -> Any:
        # `await f()` drops the Pending as soon as it has the iterator: never close it after
        self._awaited = True
        return self._awaitable.__await__()

    def __getattr__(self, name: str) -> Any:
        raise UsageError(
            f"{self._what} was called inside a running event loop and returned an awaitable: "
            f"write `await {self._what}(...)` to get the result (reading .{name})"
        )

    def __repr__(self) -> str:
        return f"<Pending {self._what}: await it>"

    def __del__(self) -> None:
        close = getattr(self._awaitable, "close", None)
        if not self._awaited and inspect.iscoroutine(self._awaitable) and callable(close):
            close()
