"""Calling the user's alert handlers, sync or async, without ever raising.

A handler is ``fn(level, details)`` (or ``fn(details)``, the level being
``details["level"]``). A coroutine it returns runs on the event loop the guard was
started from (``async with guard`` / ``start_monitoring``); without one it runs to
completion in the guard thread. Every exception is logged and counted.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from memwatch.model.guard import GuardAlert

__all__ = ["Dispatcher", "Handler", "alert_details"]

_log = logging.getLogger("memwatch.guard")
Handler = Callable[..., Any]


def alert_details(alert: GuardAlert, budget_detail: str = "") -> dict[str, Any]:
    """The dict handed to handlers: level, previous, reason and the reading."""
    s = alert.sample
    return {
        "level": alert.level,
        "previous": alert.previous,
        "reason": alert.reason,
        "time": alert.time,
        "usage": s.usage,
        "budget": s.budget,
        "fraction": s.fraction,
        "percent": 100.0 * s.fraction,
        "budget_source": s.budget_source,
        "budget_detail": budget_detail,
        "usage_source": s.usage_source,
        "psi_some_avg10": s.psi_some_avg10,
        "psi_full_avg10": s.psi_full_avg10,
        "events": dict(s.events),
        "gpu_used": s.gpu_used,
        "gpu_total": s.gpu_total,
    }


def _arity(fn: Handler) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 2
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return 2
    return 1 if len(positional) == 1 else 2


class Dispatcher:
    """Holds the handlers and the loop that runs their coroutines."""

    def __init__(self, on_error: Callable[[], None]) -> None:
        self.handlers: list[tuple[Handler, int]] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._on_error = on_error
        self._tasks: set[Any] = set()

    def add(self, handler: Handler) -> None:
        if not callable(handler):
            raise TypeError(f"a handler must be callable, got {type(handler).__name__}")
        self.handlers.append((handler, _arity(handler)))

    def remove(self, handler: Handler) -> None:
        self.handlers = [(h, n) for h, n in self.handlers if h is not handler]

    def _failed(self, handler: object) -> None:
        self._on_error()
        _log.error("memwatch guard: alert handler %r raised", handler, exc_info=True)

    async def _guarded(self, handler: object, awaitable: Awaitable[Any]) -> None:
        try:
            await awaitable
        except Exception:
            self._failed(handler)

    def emit(self, level: str, details: dict[str, Any]) -> None:
        for handler, arity in list(self.handlers):
            try:
                result = handler(details) if arity == 1 else handler(level, details)
            except Exception:
                self._failed(handler)
                continue
            if inspect.isawaitable(result):
                self._schedule(handler, result)

    def _schedule(self, handler: object, awaitable: Awaitable[Any]) -> None:
        coro = self._guarded(handler, awaitable)
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None:
            task = running.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        loop = self.loop
        if loop is not None and loop.is_running() and not loop.is_closed():
            future = asyncio.run_coroutine_threadsafe(coro, loop)
            self._tasks.add(future)
            future.add_done_callback(self._tasks.discard)
            return
        try:
            asyncio.run(coro)
        except Exception:
            self._failed(handler)
