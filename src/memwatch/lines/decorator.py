"""``@memwatch.profile``: line-level memory of a function, printed when the program exits.

::

    @memwatch.profile
    def build(n): ...

    @memwatch.profile(native=True, stream=sys.stderr)
    def load(path): ...

    build.line_profile()   # the LineProfile so far (a frozen result)

Plain functions, methods (also under ``@classmethod``/``@staticmethod``), generators and
coroutines are profiled; recursion counts hits at every level and memory once. Async
generators are refused with a message. Tracing is switched on in the calling thread only
while the function runs (a generator: while it is resumed), so the rest of the program
runs untraced. Under ``memwatch lines`` decorated functions join the script's profile.
"""

from __future__ import annotations

import atexit
import functools
import inspect
import sys
import threading
from collections.abc import Callable, Coroutine, Generator, Iterator
from contextlib import contextmanager
from typing import IO, Any, TypeVar, overload

from memwatch.errors import UsageError
from memwatch.lines.tracer import LineTracer
from memwatch.model.lines import LineProfile

__all__ = ["active_tracer", "profile", "reset", "set_active_tracer"]

F = TypeVar("F", bound=Callable[..., Any])

_state = threading.local()
_tracer: LineTracer | None = None  # the decorators' own tracer, made on first use
_active: LineTracer | None = None  # set by ``memwatch lines`` while it runs a script
_report_streams: list[IO[str] | None] = []


def set_active_tracer(tracer: LineTracer | None) -> None:
    """Make decorated functions record into ``tracer`` (``memwatch lines`` does this)."""
    global _active
    _active = tracer


def active_tracer() -> LineTracer:
    global _tracer
    if _active is not None:
        return _active
    if _tracer is None:
        _tracer = LineTracer()
        atexit.unregister(_report_at_exit)
        atexit.register(_report_at_exit)
    return _tracer


def reset() -> None:
    """Forget what the decorators recorded (nothing is printed at exit for it); for tests."""
    global _tracer
    if _tracer is not None:
        _tracer.finish()
        _tracer.codes.clear()
    _tracer = None
    _report_streams.clear()


def _report_at_exit() -> None:
    if _tracer is None or _active is not None:
        return
    from memwatch.reporters.lines import render_lines_text

    _tracer.finish()
    result = _tracer.result()
    if not result.functions:
        return
    stream = next((s for s in _report_streams if s is not None), None) or sys.stdout
    try:
        stream.write(render_lines_text(result))
        stream.flush()
    except (OSError, ValueError):  # the stream was closed before exit
        pass


@contextmanager
def _tracing(tracer: LineTracer) -> Iterator[None]:
    """Install the tracer's call hook in this thread (nested uses share one installation)."""
    depth = getattr(_state, "depth", 0)
    if depth == 0:
        _state.previous = sys.gettrace()
        sys.settrace(tracer.global_trace)
    _state.depth = depth + 1
    try:
        yield
    finally:
        _state.depth -= 1
        if _state.depth == 0:
            sys.settrace(_state.previous)
            _state.previous = None


def _wrap_generator(func: Callable[..., Generator[Any, Any, Any]], tracer: LineTracer) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        gen = func(*args, **kwargs)
        to_send: Any = None
        to_throw: BaseException | None = None
        while True:
            with _tracing(tracer):
                try:
                    item = gen.throw(to_throw) if to_throw is not None else gen.send(to_send)
                except StopIteration as stop:
                    return stop.value
            to_send, to_throw = None, None
            try:
                to_send = yield item
            except GeneratorExit:
                gen.close()
                raise
            except BaseException as exc:
                to_throw = exc

    return wrapper


def _wrap_coroutine(func: Callable[..., Coroutine[Any, Any, Any]], tracer: LineTracer) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        # the coroutine resumes from the event loop: trace this thread until it completes
        with _tracing(tracer):
            return await func(*args, **kwargs)

    return wrapper


def _wrap_function(func: Callable[..., Any], tracer: LineTracer) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _tracing(tracer):
            return func(*args, **kwargs)

    return wrapper


def _decorate(func: Any, native: bool, stream: IO[str] | None) -> Any:
    if isinstance(func, classmethod | staticmethod):
        return type(func)(_decorate(func.__func__, native, stream))
    if isinstance(func, property):
        raise UsageError("@memwatch.profile on a property: put it on the getter function instead")
    code = getattr(func, "__code__", None)
    if not callable(func) or code is None:
        raise UsageError(f"@memwatch.profile needs a Python function, got {type(func).__name__}")
    if inspect.isasyncgenfunction(func):
        raise UsageError(
            f"@memwatch.profile cannot follow the async generator {func.__qualname__}: "
            "decorate the coroutine that iterates it"
        )
    tracer = active_tracer()
    tracer.add(code)
    if native:
        tracer.native = tracer.native or _native_available()
    _report_streams.append(stream)
    if inspect.isgeneratorfunction(func):
        wrapper = _wrap_generator(func, tracer)
    elif inspect.iscoroutinefunction(func):
        wrapper = _wrap_coroutine(func, tracer)
    else:
        wrapper = _wrap_function(func, tracer)

    def line_profile() -> LineProfile:
        """This function's line profile so far."""
        result = tracer.result()
        own = tuple(
            f
            for f in result.functions
            if f.filename == code.co_filename and f.first_line == code.co_firstlineno
        )
        return LineProfile(
            functions=own, duration=result.duration, native=result.native, threads=result.threads
        )

    wrapper.line_profile = line_profile  # type: ignore[attr-defined]
    return wrapper


def _native_available() -> bool:
    from memwatch.probes.native import mallinfo

    return mallinfo() is not None


@overload
def profile(func: F) -> F: ...
@overload
def profile(
    func: None = None, *, native: bool = False, stream: IO[str] | None = None
) -> Callable[[F], F]: ...
def profile(func: Any = None, *, native: bool = False, stream: IO[str] | None = None) -> Any:
    """Record line-level memory of ``func``; the table is printed to ``stream`` (stdout) at exit.

    ``native=True`` adds the glibc heap column (C allocations that tracemalloc misses).
    """
    if func is None:
        return lambda f: _decorate(f, native, stream)
    return _decorate(func, native, stream)
