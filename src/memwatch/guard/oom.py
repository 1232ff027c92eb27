"""``oom_protected``: catch out-of-memory and CUDA errors, recover, retry on a fallback, come back later.

Recognised (by type name and message, so torch and CuPy need not be installed; the one
classifier is :func:`memwatch.guard.cuda.classify_error`): ``MemoryError`` (host), any
exception whose class or a base is named ``OutOfMemoryError`` (``torch.cuda.OutOfMemoryError``,
CuPy's), a ``RuntimeError`` whose message says ``out of memory`` or names a CUDA allocation
failure (GPU), and a CUDA error that is not out of memory but leaves the device in a bad
state (an illegal memory access, a device-side assert, ``CUBLAS_STATUS_ALLOC_FAILED``:
``device``).

After a ``device`` error the device is synchronised, its cache emptied, cuBLAS's
workspaces dropped and a one-element computation run on it
(:func:`memwatch.guard.cuda.recover_device`). When that works, the same option is tried
once more (action ``reset``); when it does not (an illegal access corrupts the CUDA
context for the rest of the process), the call falls back to the next option, and later
calls start there at once (``sticky``).

Options are tried in order: the call as given, then each fallback. A fallback is
a dict of keyword overrides (``{"batch_size": 16}``), a device string (passed as
``device=``, or as the argument of a :meth:`OomProtector.run` callable), or a
callable used instead of the function. Before each retry the failed attempt's
frames are released (the retry runs outside the ``except`` block, so the tensors
they held are gone), ``gc.collect()`` runs and the GPU cache (or the glibc heap)
is emptied, or the guard's ladder runs when a guard is given, or ``recover(kind)``
when one is given.

After ``sticky_after`` calls in a row failed on the option they started with,
later calls start on the next option ("stays on the fallback"). After
``recover_after`` seconds there, one call probes the better option again: on
success the protector moves back, on failure it stays and the wait doubles (up to
``max_recover_after``), so it never toggles fast. The user is told each time,
through ``on_oom(event)`` handlers and the ``memwatch.guard`` log.
"""

from __future__ import annotations

import functools
import gc
import inspect
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Literal, Self

from memwatch.guard.cuda import classify_error, recover_device
from memwatch.guard.ladder import cuda_empty_cache
from memwatch.guard.metrics import GuardMetrics
from memwatch.model.guard import OomEvent

__all__ = ["OomProtector", "classify_oom", "oom_protected"]

_log = logging.getLogger("memwatch.guard")


def classify_oom(exc: BaseException) -> str | None:
    """``"gpu"``, ``"host"`` or None (not an out-of-memory error; a CUDA ``device`` error
    is not one: :func:`memwatch.guard.cuda.classify_error` tells it apart)."""
    kind = classify_error(exc)
    return kind if kind in ("host", "gpu") else None


def _describe(option: Any) -> str:
    if option is None:
        return "as called"
    if callable(option):
        return getattr(option, "__qualname__", repr(option))
    return repr(option)


class OomProtector:
    """Runs calls with out-of-memory protection; see the module docstring."""

    def __init__(
        self,
        fallbacks: list[Any] | tuple[Any, ...] = (),
        *,
        sticky_after: int = 3,
        recover_after: float = 30.0,
        max_recover_after: float = 600.0,
        primary: Any = "cuda",
        guard: Any = None,
        on_oom: Callable[[OomEvent], Any] | None = None,
        recover: Callable[[str], Any] | None = None,
        clock: Callable[[], float] | None = None,
        history: int = 100,
        torch: Any = None,
    ) -> None:
        if sticky_after < 1:
            raise ValueError(f"sticky_after must be at least 1, got {sticky_after}")
        self.options: list[Any] = [None, *fallbacks]
        self.primary = primary
        self.sticky_after = sticky_after
        self.recover_after = recover_after
        self.max_recover_after = max_recover_after
        self.guard = guard
        self.recover = recover
        self.torch = torch  # None: the torch the application imported, if any
        self.clock = clock or time.monotonic
        self.handlers: list[Callable[[OomEvent], Any]] = [on_oom] if on_oom is not None else []
        self.metrics_data: GuardMetrics = guard.metrics_data if guard is not None else GuardMetrics()
        self.events: deque[OomEvent] = deque(maxlen=history)
        self.start_index = 0
        self.consecutive = 0
        self._since = float("-inf")
        self._wait = recover_after

    # -- telling the user -----------------------------------------------------
    def add_handler(self, handler: Callable[[OomEvent], Any]) -> None:
        self.handlers.append(handler)

    def _tell(self, event: OomEvent) -> None:
        self.events.append(event)
        log = _log.info if event.action == "recovered" else _log.warning
        log(
            "memwatch oom_protected: %s: %s (%s) on option %d; %s%s",
            event.function,
            event.error_type or "ok",
            event.kind,
            event.attempt,
            event.action,
            f" -> {event.option}" if event.option else "",
        )
        for handler in list(self.handlers):
            try:
                handler(event)
            except Exception:
                self.metrics_data.inc("handler_errors")
                _log.exception("memwatch oom_protected: handler %r raised", handler)

    def _recover(self, kind: str) -> None:
        if self.recover is not None:
            self.recover(kind)
            return
        if self.guard is not None:
            self.guard.run_ladder("warning", force=True)
            return
        gc.collect()
        if kind == "gpu":
            cuda_empty_cache()
        else:
            from memwatch.probes.native import malloc_trim

            malloc_trim(0)

    def _recover_device(self) -> tuple[bool, str]:
        """(whether the device works again, why not) after a CUDA ``device`` error."""
        if self.recover is not None:
            return self.recover("device") is not False, "recover() returned False"
        if self.guard is not None:
            self.guard.run_ladder("warning", force=True)
        gc.collect()
        outcome = recover_device(self.torch)
        return outcome.healthy, outcome.error

    # -- the core loop ----------------------------------------------------------
    def _begin(self) -> tuple[int, bool]:
        """(first option to try, whether it is a probe of the better option)."""
        index = self.start_index
        probing = index > 0 and self.clock() - self._since >= self._wait
        return (index - 1, True) if probing else (index, False)

    def _classify(
        self, exc: BaseException, index: int, name: str, retried: set[int]
    ) -> tuple[str, str, str] | None:
        """The failure to retry after, or None when ``exc`` must propagate."""
        kind = classify_error(exc)
        if kind is None:
            return None
        self.metrics_data.inc("cuda_errors" if kind == "device" else f"ooms.{kind}")
        if index + 1 >= len(self.options) and (kind != "device" or index in retried):
            self.metrics_data.inc("oom_exhausted")
            self._tell(
                OomEvent(self.clock(), name, kind, type(exc).__name__, str(exc)[:300], index, "exhausted")
            )
            return None
        return kind, type(exc).__name__, str(exc)[:300]

    def _execute(self, attempt: Callable[[int], Any], name: str) -> Any:
        index, probing = self._begin()
        first = index
        retried: set[int] = set()  # options retried after a device reset in this call
        while True:
            failure: tuple[str, str, str] | None = None
            last: BaseException | None = None
            try:
                result = attempt(index)
            except BaseException as exc:
                failure = self._classify(exc, index, name, retried)
                if failure is None:
                    raise
                if index + 1 >= len(self.options):  # a device error's last chance: kept to re-raise
                    last = exc
            if failure is None:
                self._succeeded(index, first, probing, name)
                return result
            # outside the except block: the failed attempt's frames are released now
            index = self._after_failure(index, first, probing, name, failure, retried, last)

    async def _execute_async(self, attempt: Callable[[int], Awaitable[Any]], name: str) -> Any:
        index, probing = self._begin()
        first = index
        retried: set[int] = set()
        while True:
            failure: tuple[str, str, str] | None = None
            last: BaseException | None = None
            try:
                result = await attempt(index)
            except BaseException as exc:
                failure = self._classify(exc, index, name, retried)
                if failure is None:
                    raise
                if index + 1 >= len(self.options):
                    last = exc
            if failure is None:
                self._succeeded(index, first, probing, name)
                return result
            index = self._after_failure(index, first, probing, name, failure, retried, last)

    def _after_failure(
        self,
        index: int,
        first: int,
        probing: bool,
        name: str,
        failure: tuple[str, str, str],
        retried: set[int],
        last: BaseException | None,
    ) -> int:
        """Recover, tell, and return the option to try next (raise ``last`` when none is left)."""
        kind, error_type, message = failure
        if kind != "device":
            self._failed(index, first, probing, name, failure)
            self._recover(kind)
            return index + 1
        healthy, why = self._recover_device()
        if healthy and index not in retried:
            retried.add(index)
            self.metrics_data.inc("device_resets")
            self._tell(
                OomEvent(
                    self.clock(),
                    name,
                    kind,
                    error_type,
                    message,
                    index,
                    "reset",
                    _describe(self.options[index]),
                )
            )
            return index
        if not healthy:
            self.metrics_data.inc("device_lost")
            message = f"{message} (device not recovered: {why})"[:400]
        if last is not None:  # no fallback left
            self.metrics_data.inc("oom_exhausted")
            self._tell(OomEvent(self.clock(), name, kind, error_type, message, index, "exhausted"))
            raise last
        self._failed(index, first, probing, name, (kind, error_type, message), lost=not healthy)
        return index + 1

    def _succeeded(self, index: int, first: int, probing: bool, name: str) -> None:
        if probing and index == first:
            self.start_index = index
            self._since = self.clock()
            self._wait = self.recover_after
            self.metrics_data.inc("oom_recoveries")
            self._tell(
                OomEvent(self._since, name, "", "", "", index, "recovered", _describe(self.options[index]))
            )
        elif index == self.start_index:
            self.consecutive = 0
        self.metrics_data.set("oom_option", float(self.start_index))

    def _failed(
        self,
        index: int,
        first: int,
        probing: bool,
        name: str,
        failure: tuple[str, str, str],
        *,
        lost: bool = False,
    ) -> None:
        """Tell a fall-back to the next option; ``lost``: the device is unusable, so later
        calls start on the fallback at once."""
        kind, error_type, message = failure
        now = self.clock()
        action, option = "retry", _describe(self.options[index + 1])
        if probing and index == first:
            self._since = now
            self._wait = min(self._wait * 2, self.max_recover_after)
        elif index == self.start_index:
            self.consecutive += 1
            if lost or self.consecutive >= self.sticky_after:
                self.start_index, self._since, self.consecutive = index + 1, now, 0
                action = "sticky"
                self.metrics_data.inc("oom_sticky")
        self.metrics_data.inc("oom_retries")
        self.metrics_data.set("oom_option", float(self.start_index))
        self._tell(OomEvent(now, name, kind, error_type, message, index, action, option))

    # -- the faces ----------------------------------------------------------------
    def _bind(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Callable[[int], Any]:
        def attempt(index: int) -> Any:
            option = self.options[index]
            if option is None:
                return fn(*args, **kwargs)
            if isinstance(option, dict):
                return fn(*args, **{**kwargs, **option})
            if isinstance(option, str):
                return fn(*args, **{**kwargs, "device": option})
            return option(*args, **kwargs)

        return attempt

    def call(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` with fallbacks applied as described above."""
        return self._execute(self._bind(fn, args, kwargs), getattr(fn, "__qualname__", repr(fn)))

    async def acall(self, fn: Callable[..., Awaitable[Any]], /, *args: Any, **kwargs: Any) -> Any:
        """The async form of :meth:`call` for coroutine functions (and async fallbacks)."""
        return await self._execute_async(self._bind(fn, args, kwargs), getattr(fn, "__qualname__", repr(fn)))

    def run(self, fn: Callable[[Any], Any]) -> Any:
        """Device-agnostic ``fn(device)``: the primary device first, then the fallbacks."""
        name = getattr(fn, "__qualname__", repr(fn))
        return self._execute(lambda i: fn(self.primary if i == 0 else self.options[i]), name)

    @property
    def current_option(self) -> Any:
        """Where calls start now: the primary (``primary``) or a fallback."""
        return self.primary if self.start_index == 0 else self.options[self.start_index]

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def awrapper(*args: Any, **kwargs: Any) -> Any:
                return await self.acall(fn, *args, **kwargs)

            awrapper.oom = self  # type: ignore[attr-defined]
            return awrapper

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return self.call(fn, *args, **kwargs)

        wrapper.oom = self  # type: ignore[attr-defined]
        return wrapper

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]:
        if ev is None:
            return False
        kind = classify_error(ev)
        if kind is not None:  # a plain block cannot be retried: recover, tell, re-raise
            self.metrics_data.inc("cuda_errors" if kind == "device" else f"ooms.{kind}")
            self._tell(
                OomEvent(self.clock(), "with-block", kind, type(ev).__name__, str(ev)[:300], 0, "exhausted")
            )
            if kind == "device":
                self._recover_device()
            else:
                self._recover(kind)
        return False


def oom_protected(fallbacks: Any = (), **options: Any) -> Any:
    """An :class:`OomProtector`: a decorator (``@oom_protected(fallbacks=[...])``), a
    context (``with oom_protected(...) as p: p.call(fn)``), or used bare (``@oom_protected``)."""
    if callable(fallbacks) and not isinstance(fallbacks, list | tuple):
        return OomProtector(**options)(fallbacks)
    return OomProtector(list(fallbacks), **options)
