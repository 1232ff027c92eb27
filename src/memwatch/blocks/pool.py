"""A bounded, thread-safe object pool: reuse expensive objects instead of rebuilding them.

::

    pool = ObjectPool(factory=Connection, min_size=5, max_size=20, ttl=60)
    with pool.lease() as conn:          # or: conn = pool.acquire(timeout=1.0); pool.release(conn)
        conn.query(...)

- At most ``max_size`` objects exist at once; ``acquire`` waits for one to be
  released (up to ``timeout`` seconds, ``None`` = wait for ever) and then raises
  :class:`PoolTimeoutError`.
- ``min_size`` objects are created up front and are never expired by the ttl.
- ``release`` calls ``obj.reset()`` when the object has one (:class:`PoolableObject`
  does); an object whose ``reset`` raises is closed and dropped, and the error
  propagates. Objects the pool drops (ttl expiry, ``shrink``, ``close``) get
  ``obj.close()`` when they have one.
- ``ttl``: an idle object unused for longer than ``ttl`` seconds is closed. Expiry is
  lazy (checked on ``acquire``/``release``, or call :meth:`ObjectPool.evict_expired`):
  no background thread.
- Idle objects are handed out most-recently-used first (warm caches, and the cold
  ones age out under the ttl).
- The pool registers itself with :mod:`memwatch.blocks.reclaim`: under memory pressure the
  guard may close a fraction of the idle objects (``shrink``) or all of them (``clear``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from memwatch.blocks import reclaim
from memwatch.errors import ConfigError, MemwatchError, UsageError
from memwatch.units import parse_duration

__all__ = [
    "ObjectPool",
    "PoolClosedError",
    "PoolReleaseError",
    "PoolTimeoutError",
    "PoolableObject",
]

_log = logging.getLogger(__name__)
T = TypeVar("T")


class PoolTimeoutError(MemwatchError, TimeoutError):
    """No object became free within the acquire timeout (all ``max_size`` are in use)."""


class PoolReleaseError(UsageError, ValueError):
    """An object released twice, or one that this pool did not lend."""


class PoolClosedError(UsageError):
    """``acquire`` on a pool that has been closed."""


class PoolableObject:
    """Optional base class for pooled objects: override what applies.

    ``reset()`` runs on every release and must bring the object back to a clean
    state; ``close()`` runs once when the pool drops the object for good.
    """

    def reset(self) -> None:
        """Return the object to a clean state before the next holder gets it."""

    def close(self) -> None:
        """Free the object's resources; the pool will not hand it out again."""


def _check_size(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def _check_ttl(ttl: float | str | None) -> float | None:
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float | str):
        raise ConfigError(f"ttl must be a number of seconds or None, got {ttl!r}")
    seconds = parse_duration(ttl) if isinstance(ttl, str) else float(ttl)
    if not seconds > 0 or seconds == float("inf"):
        raise ConfigError(f"ttl must be a positive number of seconds or None, got {ttl!r}")
    return seconds


def _close(obj: Any) -> None:
    close = getattr(obj, "close", None)
    if callable(close):
        try:
            close()
        except Exception:
            _log.warning("pool: %s.close() failed", type(obj).__name__, exc_info=True)


class ObjectPool(Generic[T]):
    """A pool of at most ``max_size`` objects made by ``factory()``; see the module docstring."""

    def __init__(
        self, factory: Callable[[], T], min_size: int = 0, max_size: int = 10, ttl: float | str | None = None
    ) -> None:
        if not callable(factory):
            raise ConfigError(f"factory must be callable, got {factory!r}")
        self.min_size = _check_size("min_size", min_size, 0)
        self.max_size = _check_size("max_size", max_size, 1)
        if self.max_size < self.min_size:
            raise ConfigError(f"max_size ({max_size}) must be >= min_size ({min_size})")
        self.ttl = _check_ttl(ttl)
        self._factory = factory
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)
        self._idle: deque[T] = deque()  # newest on the right
        self._stamps: deque[float] = deque()  # release times aligned with _idle (only with a ttl)
        self._in_use: dict[int, T] = {}
        self._creating = 0
        self._waiters = 0
        self._closed = False
        self._hits = 0
        self._released = 0
        self._counts = dict.fromkeys(
            ("objects_created", "misses", "closed", "expired", "timeouts", "waits"), 0
        )
        try:
            for _ in range(self.min_size):
                self._idle.append(self._make())
                if self.ttl is not None:
                    self._stamps.append(time.monotonic())
        except BaseException:
            for obj in self._idle:
                _close(obj)
            raise
        reclaim.register(self)

    # -- lending -------------------------------------------------------------------
    def acquire(self, timeout: float | None = None) -> T:
        """An object for the caller's exclusive use until :meth:`release`.

        Waits up to ``timeout`` seconds (``None``: for ever, ``0``: not at all) when
        all ``max_size`` objects are in use, then raises :class:`PoolTimeoutError`.
        """
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0
        ):
            raise ConfigError(f"timeout must be >= 0 seconds or None, got {timeout!r}")
        with self._lock:  # fast path: an idle object and nothing to expire
            if self._idle and self.ttl is None and not self._closed:
                obj = self._idle.pop()
                self._in_use[id(obj)] = obj
                self._hits += 1
                return obj
        return self._acquire_slow(timeout)

    def release(self, obj: T) -> None:
        """Give ``obj`` back: ``reset()`` it and make it available again.

        Releasing an object twice is detected while it is idle in the pool; once
        another caller holds it again, a stale second release cannot be told apart.
        """
        if self._in_use.get(id(obj)) is not obj:  # an atomic read; checked again under the lock
            with self._lock:
                raise self._release_error(obj)
        reset = getattr(obj, "reset", None)
        if reset is not None:
            try:
                reset()
            except BaseException:
                self._drop(obj)
                raise
        with self._lock:
            lent = self._in_use.pop(id(obj), None)
            if lent is not obj:  # released twice at the same time by two threads
                if lent is not None:
                    self._in_use[id(lent)] = lent
                raise self._release_error(obj)
            self._released += 1
            if self.ttl is None and not self._closed:
                self._idle.append(obj)
                if self._waiters:
                    self._freed.notify()
                return
        self._release_slow(obj)

    def _acquire_slow(self, timeout: float | None) -> T:
        expired: list[T] = []
        deadline: float | None = None
        with self._lock:
            while True:
                if self._closed:
                    raise PoolClosedError("acquire() on a closed pool")
                if self.ttl is not None and self._idle:
                    expired += self._take_expired(time.monotonic())
                if self._idle:
                    obj = self._idle.pop()
                    if self.ttl is not None:
                        self._stamps.pop()
                    self._in_use[id(obj)] = obj
                    self._hits += 1
                    create = False
                    break
                if len(self._in_use) + self._creating < self.max_size:
                    self._creating += 1
                    create = True
                    break
                if deadline is None:
                    deadline = float("inf") if timeout is None else time.monotonic() + timeout
                    self._counts["waits"] += 1
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._counts["timeouts"] += 1
                    raise PoolTimeoutError(
                        f"no pooled object free after {timeout:g} s: all {self.max_size} "
                        f"(max_size) are in use; release objects or raise max_size"
                    )
                self._waiters += 1
                try:
                    self._freed.wait(None if remaining == float("inf") else remaining)
                finally:
                    self._waiters -= 1
        for old in expired:
            _close(old)
        return self._create_lent() if create else obj

    def _release_slow(self, obj: T) -> None:
        expired: list[T] = []
        with self._lock:
            if self._closed:
                self._counts["closed"] += 1
                expired = [obj]
            else:
                now = time.monotonic()
                self._idle.append(obj)
                self._stamps.append(now)
                expired = self._take_expired(now)
                if self._waiters:
                    self._freed.notify()
        for old in expired:
            _close(old)

    @contextlib.contextmanager
    def lease(self, timeout: float | None = None) -> Iterator[T]:
        """``with pool.lease() as obj:`` acquire, and release even when the block raises."""
        obj = self.acquire(timeout)
        try:
            yield obj
        finally:
            self.release(obj)

    # -- memory ----------------------------------------------------------------------
    def evict_expired(self) -> int:
        """Close idle objects older than the ttl now; returns how many were closed."""
        if self.ttl is None:
            return 0
        with self._lock:
            expired = self._take_expired(time.monotonic())
        for obj in expired:
            _close(obj)
        return len(expired)

    def shrink(self, fraction: float) -> int:
        """Close about ``fraction`` of the idle objects, oldest first (may go below min_size)."""
        if isinstance(fraction, bool) or not 0 < fraction <= 1:
            raise ConfigError(f"fraction must be in (0, 1], got {fraction!r}")
        with self._lock:
            count = min(len(self._idle), max(1, round(len(self._idle) * fraction)))
            dropped = [self._pop_oldest() for _ in range(count)]
            self._counts["closed"] += count
            if self._waiters:
                self._freed.notify(count)
        for obj in dropped:
            _close(obj)
        return count

    def clear(self) -> int:
        """Close every idle object; lent objects are untouched. Returns how many were closed."""
        with self._lock:
            dropped = list(self._idle)
            self._idle.clear()
            self._stamps.clear()
            self._counts["closed"] += len(dropped)
            if self._waiters:
                self._freed.notify_all()
        for obj in dropped:
            _close(obj)
        return len(dropped)

    def close(self) -> None:
        """Close idle objects now and lent ones when released; ``acquire`` then raises."""
        with self._lock:
            self._closed = True
            self._freed.notify_all()
        self.clear()
        reclaim.unregister(self)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def stats(self) -> dict[str, float]:
        """Counters: objects_created, hits, misses, hit_rate, in_use, idle, closed, and more.

        A hit is an acquire served by an idle object; a miss one that had to create.
        ``hit_rate`` is hits / (hits + misses), 0.0 before the first acquire.
        """
        with self._lock:
            out: dict[str, float] = dict(self._counts)
            out["hits"] = self._hits
            out["acquired"] = self._hits + self._counts["misses"]
            out["released"] = self._released
            out["in_use"] = len(self._in_use)
            out["idle"] = len(self._idle)
        looked = out["hits"] + out["misses"]
        out["hit_rate"] = out["hits"] / looked if looked else 0.0
        return out

    def __enter__(self) -> ObjectPool[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        s = self.stats
        return (
            f"ObjectPool(in_use={s['in_use']:.0f}, idle={s['idle']:.0f}, "
            f"min_size={self.min_size}, max_size={self.max_size}, ttl={self.ttl})"
        )

    # -- internals (the lock is held where the name says so) -----------------------
    def _make(self) -> T:
        obj = self._factory()
        self._counts["objects_created"] += 1
        return obj

    def _create_lent(self) -> T:
        try:
            obj = self._factory()
        except BaseException:
            with self._lock:
                self._creating -= 1
                if self._waiters:
                    self._freed.notify()
            raise
        with self._lock:
            self._creating -= 1
            if id(obj) in self._in_use or any(o is obj for o in self._idle):
                raise UsageError(
                    f"the pool's factory returned an object it had already made "
                    f"({type(obj).__name__}); it must return a new object per call"
                )
            self._in_use[id(obj)] = obj
            self._counts["objects_created"] += 1
            self._counts["misses"] += 1
        return obj

    def _take_expired(self, now: float) -> list[T]:
        """Under the lock: pop idle objects older than the ttl, keeping min_size objects."""
        assert self.ttl is not None
        out: list[T] = []
        limit = now - self.ttl
        total = len(self._idle) + len(self._in_use)
        while self._idle and self._stamps[0] < limit and total > self.min_size:
            out.append(self._pop_oldest())
            total -= 1
        self._counts["expired"] += len(out)
        self._counts["closed"] += len(out)
        return out

    def _pop_oldest(self) -> T:
        """Under the lock: remove the least recently released idle object."""
        if self._stamps:
            self._stamps.popleft()
        return self._idle.popleft()

    def _drop(self, obj: T) -> None:
        """Close a lent object whose reset failed, freeing its place."""
        with self._lock:
            if self._in_use.get(id(obj)) is obj:
                del self._in_use[id(obj)]
            self._counts["closed"] += 1
            if self._waiters:
                self._freed.notify()
        _close(obj)

    def _release_error(self, obj: T) -> PoolReleaseError:
        """Under the lock: say why ``obj`` cannot be released."""
        name = type(obj).__name__
        if any(o is obj for o in self._idle):
            return PoolReleaseError(f"{name} object released twice: it is already back in the pool")
        return PoolReleaseError(
            f"{name} object was not acquired from this pool (or was already released and closed)"
        )
