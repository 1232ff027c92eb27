"""The operation under test: one call (with setup/teardown), run in batches.

The measurement protocol is a generator that asks for "n more calls"; a driver
answers by running :meth:`Operation.run` (plain functions) or
:meth:`Operation.arun` (coroutine functions, inside an event loop). Expected
exceptions are swallowed (error paths are measured on purpose); any other
exception stops the measurement with :class:`~memwatch.errors.OperationError`
carrying the original and its traceback.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any

from memwatch.config.lifecycle import is_async_callable
from memwatch.errors import ConfigError, OperationError, user_traceback

__all__ = ["Operation", "drive", "is_async_callable", "target_name"]


def target_name(func: Callable[..., Any]) -> str:
    """``module:qualname`` of a callable, for reports."""
    module = getattr(func, "__module__", None) or "?"
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)
    return f"{module}:{name}"


class Operation:
    """``func(*args, **kwargs)`` with optional ``setup()`` before and ``teardown()`` after.

    Setup and teardown run inside the measured batch, so memory they keep counts too.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        setup: Callable[[], Any] | None = None,
        teardown: Callable[[], Any] | None = None,
        expected_exceptions: Any = (),
    ) -> None:
        if not callable(func):
            raise ConfigError(f"detect_leaks: {func!r} is not callable")
        for name, hook in (("setup", setup), ("teardown", teardown)):
            if hook is not None and not callable(hook):
                raise ConfigError(f"detect_leaks: {name}={hook!r} is not callable")
        if isinstance(expected_exceptions, type):
            expected_exceptions = (expected_exceptions,)
        if not isinstance(expected_exceptions, tuple) or not all(
            isinstance(e, type) and issubclass(e, BaseException) for e in expected_exceptions
        ):
            raise ConfigError(
                "detect_leaks: expected_exceptions must be a tuple of exception classes, "
                f"got {expected_exceptions!r}"
            )
        if not isinstance(args, Sequence) or isinstance(args, str | bytes):
            raise ConfigError(f"detect_leaks: args must be a tuple, got {type(args).__name__}")
        if kwargs is not None and not isinstance(kwargs, Mapping):
            raise ConfigError(f"detect_leaks: kwargs must be a mapping, got {type(kwargs).__name__}")
        self.func = func
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        self.setup = setup
        self.teardown = teardown
        self.expected = expected_exceptions
        self.is_async = is_async_callable(func)
        self.expected_raised = 0
        self.checked = False

    def run(self, n: int) -> None:
        """Call the operation ``n`` times (plain function)."""
        if not self.checked and n > 0:
            self._first_call()
            n -= 1
        func, args, kwargs, expected = self.func, self.args, self.kwargs, self.expected
        setup, teardown = self.setup, self.teardown
        for _ in range(n):
            try:
                if setup is not None:
                    setup()
                try:
                    func(*args, **kwargs)
                finally:
                    if teardown is not None:
                        teardown()
            except expected:
                self.expected_raised += 1
            except Exception as exc:
                raise self._failure(exc) from exc

    def _first_call(self) -> None:
        """One call that also checks the function does not hand back an un-awaited coroutine."""
        self.checked = True
        try:
            if self.setup is not None:
                self.setup()
            try:
                result = self.func(*self.args, **self.kwargs)
            finally:
                if self.teardown is not None:
                    self.teardown()
        except self.expected:
            self.expected_raised += 1
            return
        except Exception as exc:
            raise self._failure(exc) from exc
        if inspect.iscoroutine(result):
            result.close()
            raise ConfigError(
                f"{target_name(self.func)} returned a coroutine: make it an "
                "`async def` function, or await it with adetect_leaks()"
            )

    async def arun(self, n: int) -> None:
        """Call and await the operation ``n`` times (coroutine function)."""
        func, args, kwargs, expected = self.func, self.args, self.kwargs, self.expected
        for _ in range(n):
            try:
                if self.setup is not None:
                    await _maybe_await(self.setup())
                try:
                    await _maybe_await(func(*args, **kwargs))
                finally:
                    if self.teardown is not None:
                        await _maybe_await(self.teardown())
            except expected:
                self.expected_raised += 1
            except Exception as exc:
                raise self._failure(exc) from exc

    def _failure(self, exc: BaseException) -> OperationError:
        text = user_traceback(exc)
        error = OperationError(
            f"{target_name(self.func)} raised {type(exc).__name__}: {exc} "
            "(no verdict; to measure an error path on purpose, declare the exception: "
            "expected_exceptions=(...) or --expect NAME)",
            original=exc,
            traceback_text=text,
        )
        return error


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


def drive(steps: Generator[int, None, Any], run: Callable[[int], None]) -> Any:
    """Run a measurement protocol synchronously: each yielded n becomes ``run(n)``."""
    try:
        request = next(steps)
        while True:
            run(request)
            request = steps.send(None)
    except StopIteration as stop:
        return stop.value
    finally:
        steps.close()
