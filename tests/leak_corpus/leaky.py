"""Operations that leak, one pattern each (retention roots named in ``cases``)."""

from __future__ import annotations

import asyncio
import atexit
import functools
import itertools
import logging
import os
import sys
import threading
import types
import weakref
from typing import Any, ClassVar

import numpy as np

_counter = itertools.count()


class Session:
    def __init__(self, user: str) -> None:
        self.user = user
        self.data = {"user": user}


_SESSIONS: list[Session] = []
_STORE: dict[str, list[Session]] = {}


def module_list() -> None:
    """A module-level list that grows: one session per call."""
    _SESSIONS.append(Session("u"))


def module_dict() -> None:
    """A module-level dict with a fresh key per call."""
    n = next(_counter)
    _STORE[f"u{n}"] = [Session(f"u{n}")]


class Page:
    def __init__(self, n: int) -> None:
        self.n = n


@functools.lru_cache(maxsize=None)  # noqa: UP033 - the pattern under test
def _render(n: int) -> Page:
    return Page(n)


def unbounded_lru() -> None:
    """An unbounded lru_cache keyed by an ever-new argument."""
    _render(next(_counter))


def unique_loggers() -> None:
    """A logger per request: logging's manager keeps every one."""
    logging.getLogger(f"corpus.request.{next(_counter)}")


class EventBus:
    def __init__(self) -> None:
        self._observers: list[Any] = []

    def subscribe(self, observer: Any) -> None:
        self._observers.append(observer)


class Handler:
    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def notify(self, event: str) -> None:  # pragma: no cover - never called
        pass


_BUS = EventBus()


def observers() -> None:
    """Observers subscribed per call and never unsubscribed."""
    _BUS.subscribe(Handler(b"x" * 100))


_ERRORS: list[BaseException] = []


def _parse(text: str) -> int:
    scratch = [text] * 10  # a local the stored traceback keeps alive
    raise ValueError(f"bad input {scratch[0]!r}")


def stored_exceptions() -> None:
    """Exceptions kept for later: each holds its traceback and frames."""
    try:
        _parse("abc")
    except ValueError as exc:
        _ERRORS.append(exc)


_TASKS: set[asyncio.Task[int]] = set()


async def _work() -> int:
    return 1


async def task_set() -> None:
    """asyncio tasks kept in a set and never discarded."""
    task = asyncio.ensure_future(_work())
    _TASKS.add(task)
    await asyncio.sleep(0)


class Tiny:
    __slots__ = ("a", "b", "c")

    def __init__(self) -> None:
        self.a = self.b = self.c = None


_SMALL: list[Tiny] = []


def small_object() -> None:
    """One ~64-byte object per call."""
    _SMALL.append(Tiny())


class Record:
    def __init__(self, n: int) -> None:
        self.n = n
        self.blob = b"r" * 200


_RARE: list[Record] = []
_rare_calls = itertools.count()


def every_tenth() -> None:
    """Leaks only on every 10th call."""
    if next(_rare_calls) % 10 == 0:
        _RARE.append(Record(0))


class Node:
    def __init__(self) -> None:
        self.peer: Node | None = None


class Registry:
    nodes: ClassVar[list[Node]] = []


def class_attribute_cycles() -> None:
    """Reference cycles kept reachable from a class attribute."""
    a, b = Node(), Node()
    a.peer, b.peer = b, a
    Registry.nodes.append(a)


_ARRAYS: list[np.ndarray] = []


def numpy_arrays() -> None:
    """numpy arrays kept in a list."""
    _ARRAYS.append(np.zeros(64))


_PAYLOADS: dict[str, bytes] = {}
_payload_ids = itertools.count()


def bytes_cache() -> None:
    """A module-level dict of str -> bytes: CPython does not GC-track such a dict."""
    _PAYLOADS[f"req-{next(_payload_ids)}"] = b"x" * 200


_CALLBACKS: list[Any] = []


def closures() -> None:
    """Callbacks registered per call, each closing over a buffer."""
    buffer = bytearray(64)
    _CALLBACKS.append(lambda: len(buffer))


class Request:
    def __init__(self) -> None:
        self.body = bytearray(128)

    def handle(self) -> int:  # pragma: no cover - never called
        return len(self.body)


_HANDLERS: list[Any] = []


def bound_methods() -> None:
    """A bound method stored in a registry keeps its instance (and its body) alive."""
    _HANDLERS.append(Request().handle)


class _ExitHook:
    """A callable that compares equal to every other hook, so reset() can unregister all."""

    def __init__(self) -> None:
        self.state = [0] * 8

    def __call__(self) -> None:  # pragma: no cover - runs at exit only if not reset
        pass

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ExitHook)

    __hash__ = object.__hash__


def atexit_hooks() -> None:
    """An exit hook registered per call: held by the interpreter's C-level list."""
    atexit.register(_ExitHook())


_FDS = bytearray(1 << 16)  # fd -> 1 when leaked here: no Python object is kept per fd


def fd_leak() -> None:
    """A file opened per call and never closed (a raw descriptor: nothing Python holds it)."""
    fd = os.open(os.devnull, os.O_RDONLY)
    if fd < len(_FDS):
        _FDS[fd] = 1


_RELEASE = threading.Event()
_THREADS: list[threading.Thread] = []


def thread_leak() -> None:
    """A worker thread per call that waits forever (on an event nobody sets)."""
    worker = threading.Thread(target=_RELEASE.wait, daemon=True)
    worker.start()
    _THREADS.append(worker)


_CLASS_REGISTRY: dict[type, tuple[str, ...]] = {}


def class_per_call() -> None:
    """A class defined per call and registered by type (as toolz's signature registry is
    filled by a test on Python 3.11.8 and older): each class stays a dict key."""

    class Wrapped:
        pass

    _CLASS_REGISTRY[Wrapped] = ("func",)


_PLUGINS = types.ModuleType("corpus_plugins")  # a module made by hand, registered in sys.modules


def handmade_module() -> None:
    """A module created at run time and put in sys.modules keeps a list that grows."""
    module = sys.modules.setdefault("corpus_plugins", _PLUGINS)
    module.__dict__.setdefault("loaded", []).append(Session(f"plugin-{next(_counter)}"))


_LOCAL = threading.local()


def thread_local_store() -> None:
    """A per-thread list kept in a threading.local, never cleared."""
    if not hasattr(_LOCAL, "seen"):
        _LOCAL.seen = []
    _LOCAL.seen.append(Session(f"local-{next(_counter)}"))


class _Resource:
    pass


_RESOURCES: list[_Resource] = []


def finalizers() -> None:
    """A weakref.finalize per call whose object never dies: the registry keeps each payload."""
    resource = _Resource()
    _RESOURCES.append(resource)
    weakref.finalize(resource, list.clear, [Session(f"final-{next(_counter)}")])


def _release_resources() -> None:
    global _RELEASE
    for fd in range(len(_FDS)):
        if _FDS[fd]:
            os.close(fd)
            _FDS[fd] = 0
    _RELEASE.set()
    for worker in _THREADS:
        worker.join()
    _THREADS.clear()
    _RELEASE = threading.Event()


def reset() -> None:
    """Drop everything the leaky operations retained."""
    _release_resources()
    atexit.unregister(_ExitHook())
    _HANDLERS.clear()
    _SESSIONS.clear()
    _STORE.clear()
    _render.cache_clear()
    manager = logging.Logger.manager
    for name in [n for n in manager.loggerDict if n.startswith("corpus.request.")]:
        del manager.loggerDict[name]
    _BUS._observers.clear()
    _ERRORS.clear()
    _TASKS.clear()
    _SMALL.clear()
    _RARE.clear()
    Registry.nodes.clear()
    _ARRAYS.clear()
    _PAYLOADS.clear()
    _CALLBACKS.clear()
    _CLASS_REGISTRY.clear()
    _SLOW_KEPT.clear()
    _SLOW_EVERY_FIFTH.clear()
    sys.modules.pop("corpus_plugins", None)
    _PLUGINS.__dict__.pop("loaded", None)
    if hasattr(_LOCAL, "seen"):
        del _LOCAL.seen
    registry: dict[weakref.finalize[Any, Any], Any] = weakref.finalize._registry  # type: ignore[attr-defined]
    for finalizer in list(registry):
        held = finalizer.peek()
        if held is not None and isinstance(held[0], _Resource):
            finalizer.detach()
    _RESOURCES.clear()


# --- millisecond-scale leaks ----------------------------------------------------------


def _busy(ms: float) -> None:
    import time

    end = time.perf_counter() + ms / 2000.0
    while time.perf_counter() < end:
        pass
    time.sleep(ms / 2000.0)


_SLOW_KEPT: list[bytes] = []


def slow_leak() -> None:
    """A 4 ms call that keeps 1 KB every time."""
    _busy(4.0)
    _SLOW_KEPT.append(bytes(1000) + str(next(_counter)).encode())


_SLOW_EVERY_FIFTH: list[bytes] = []


def slow_sparse_leak() -> None:
    """A 3 ms call that keeps 5 KB every fifth call."""
    _busy(3.0)
    if next(_counter) % 5 == 0:
        _SLOW_EVERY_FIFTH.append(bytes(5000))
