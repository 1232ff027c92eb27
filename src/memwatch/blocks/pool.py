"""A bounded, thread-safe object pool: reuse expensive objects instead of rebuilding them.

::

    pool = ObjectPool(factory=Connection, min_size=5, max_size=20, ttl=60)
    with pool.lease() as conn:          # or: conn = pool.acquire(timeout=1.0); pool.release(conn)
        conn.query(...)

- At most ``max_size`` objects exist at once; ``acquire`` waits for one to be
  released (up to ``timeout`` seconds, ``None`` = wait for ever) and then raises
  :class:`PoolTimeoutError`.
- ``min_size`` objects are created up front and are never expired by the ttl.
- ``release`` calls ``obj.reset()`` when the object's class defines one (the no-op
  of :class:`PoolableObject` is skipped); an object whose ``reset`` raises is closed
  and dropped, and the error propagates. Objects the pool drops (ttl expiry,
  ``shrink``, ``close``) get ``obj.close()`` when they have one.
- ``ttl``: an idle object unused for longer than ``ttl`` seconds is closed. Expiry is
  lazy (checked on ``acquire``/``release``, or call :meth:`ObjectPool.evict_expired`):
  no background thread.
- Idle objects are handed out most-recently-used first (warm caches, and the cold
  ones age out under the ttl).
- The pool registers itself with :mod:`memwatch.blocks.reclaim`: under memory pressure the
  guard may close a fraction of the idle objects (``shrink``) or all of them (``clear``).

How it is fast: every object the pool made has a small record (a list: the object,
whether it is lent, its ``reset`` or None, the time it went idle). Idle records sit in
a :class:`collections.deque`, whose ``pop`` and ``append`` are single C calls (atomic
under the GIL, so two threads never get the same record), and a dict maps ``id(obj)``
to the record. ``acquire`` is ``pop`` + two list stores + a counter; ``release`` is one
dict lookup + two list operations + ``append``: no lock, no allocation. The lock is taken
only on the slow paths: creating an object (where ``max_size`` is enforced), waiting,
expiry, ``shrink``/``clear``/``close`` and statistics. With a ttl, each pair also reads
the clock twice (the stamp on release, the expiry check on acquire).
The hit counter and a record's lent flag change without a lock: exact on CPython with
the GIL (neither step has a thread-switch point); a free-threaded build is not supported.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType
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
# A waiting acquire re-checks this often even without a wake-up (belt and braces
# against a missed notify; a release normally wakes it at once).
_WAIT_SLICE = 0.05


class PoolTimeoutError(MemwatchError, TimeoutError):
    """No object became free within the acquire timeout (all ``max_size`` are in use)."""


class PoolReleaseError(UsageError, ValueError):
    """An object released twice, or one that this pool did not lend."""


class PoolClosedError(UsageError):
    """``acquire`` on a pool that has been closed."""


class PoolableObject:
    """Optional base class for pooled objects: override what applies.

    ``reset()`` runs on every release and must bring the object back to a clean
    state; ``close()`` runs once when the pool drops the object for good. The pool
    calls neither when the subclass does not override it.
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


def _check_timeout(timeout: Any) -> None:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0:
        raise ConfigError(f"timeout must be >= 0 seconds or None, got {timeout!r}")


def _close(obj: Any) -> None:
    close = getattr(obj, "close", None)
    if callable(close) and getattr(type(obj), "close", None) is not PoolableObject.close:
        try:
            close()
        except Exception:
            _log.warning("pool: %s.close() failed", type(obj).__name__, exc_info=True)


def _resets(cls: type) -> bool:
    """Whether instances of ``cls`` have a ``reset`` worth calling."""
    reset = getattr(cls, "reset", None)
    return callable(reset) and reset is not PoolableObject.reset


class _Lease(Generic[T]):
    """``with pool.lease() as obj``: a plain class (cheaper than a generator context manager)."""

    __slots__ = ("_obj", "_pool", "_timeout")

    def __init__(self, pool: ObjectPool[T], timeout: float | None) -> None:
        self._pool = pool
        self._timeout = timeout

    def __enter__(self) -> T:
        self._obj = self._pool.acquire(self._timeout)
        return self._obj

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._pool.release(self._obj)


# A record is a list [object, lent, reset or None, idle since] (literal indexes on the
# fast paths: a list store allocates nothing).


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
        self._idle: deque[list[Any]] = deque()  # idle records, the most recently released on the right
        self._records: dict[int, list[Any]] = {}  # id(obj) -> record, for every object the pool owns
        self._resets: dict[type, bool] = {}  # class -> whether it defines a reset() worth calling
        self._total = 0  # objects that exist or are being made (changed under the lock)
        self._waiters = 0
        self._alert = False  # waiters or closed: release must take the slow path (set under the lock)
        self._closed = False
        self._hits = 0  # the one counter on the fast path
        self._counts = dict.fromkeys(
            ("objects_created", "misses", "closed", "expired", "timeouts", "waits", "reset_failures"), 0
        )
        made: list[T] = []
        try:
            for _ in range(self.min_size):
                made.append(self._factory())
        except BaseException:
            for obj in made:
                _close(obj)
            raise
        with self._lock:
            for obj in made:
                self._idle.append(self._adopt(obj, lent=False))
            self._total = self._counts["objects_created"] = len(made)
        reclaim.register(self)

    # -- lending -------------------------------------------------------------------
    def acquire(self, timeout: float | None = None) -> T:
        """An object for the caller's exclusive use until :meth:`release`.

        Waits up to ``timeout`` seconds (``None``: for ever, ``0``: not at all) when
        all ``max_size`` objects are in use, then raises :class:`PoolTimeoutError`.
        """
        if timeout is not None:
            _check_timeout(timeout)
        try:
            record = self._idle.pop()
        except IndexError:
            return self._acquire_slow(timeout, None)
        if self.ttl is not None and record[3] < time.monotonic() - self.ttl:
            return self._acquire_slow(timeout, record)  # the newest is stale, so all are
        record[1] = True
        self._hits += 1
        return record[0]  # type: ignore[no-any-return]

    def release(self, obj: T) -> None:
        """Give ``obj`` back: ``reset()`` it and make it available again.

        Releasing an object twice, or one this pool did not lend, raises
        :class:`PoolReleaseError` and leaves the pool as it was. (Once another caller
        holds the object again, a stale second release cannot be told apart.)
        """
        try:
            record = self._records[id(obj)]
        except KeyError:
            raise self._release_error(obj) from None
        if not record[1]:
            raise self._release_error(obj)
        record[1] = False  # at once: a racing second release now fails
        reset = record[2]
        if reset is not None:
            try:
                reset()
            except BaseException:
                self._reset_failed(record)
                raise
        if self.ttl is not None:
            record[3] = time.monotonic()
            self._idle.append(record)
            try:
                if self._idle[0][3] < record[3] - self.ttl:
                    self.evict_expired()
            except IndexError:  # emptied meanwhile by other threads
                pass
        else:
            self._idle.append(record)
        if self._alert:
            self._after_release()

    def lease(self, timeout: float | None = None) -> _Lease[T]:
        """``with pool.lease() as obj:`` acquire, and release even when the block raises."""
        return _Lease(self, timeout)

    # -- slow paths (take the lock) ------------------------------------------------
    def _acquire_slow(self, timeout: float | None, stale: list[Any] | None) -> T:
        """No idle object was at hand (or ``stale``, popped from the idle ones, had expired)."""
        doomed: list[T] = []
        deadline: float | None = None
        try:
            with self._lock:
                if stale is not None:
                    if self._total > self.min_size:
                        doomed.append(self._disown(stale))
                        self._forget(1, expired=1)
                    else:  # kept for min_size: still good to lend
                        stale[1] = True
                        self._hits += 1
                        return stale[0]  # type: ignore[no-any-return]
                while True:
                    if self._closed:
                        raise PoolClosedError("acquire() on a closed pool")
                    if self.ttl is not None:
                        doomed += self._take_expired(time.monotonic())
                    try:
                        record = self._idle.pop()
                    except IndexError:
                        pass
                    else:
                        record[1] = True
                        self._hits += 1
                        return record[0]  # type: ignore[no-any-return]
                    if self._total < self.max_size:
                        self._total += 1  # the place is taken now; the object is made below
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
                    # Raise the alert before looking again (the loop does): a release that
                    # appended before it is seen by that look, one after it wakes us.
                    self._waiters += 1
                    self._alert = True
                    try:
                        self._freed.wait(min(remaining, _WAIT_SLICE))
                    finally:
                        self._waiters -= 1
                        self._alert = self._waiters > 0 or self._closed
        finally:
            for old in doomed:
                _close(old)
        return self._create_lent()

    def _create_lent(self) -> T:
        try:
            obj = self._factory()
        except BaseException:
            with self._lock:
                self._total -= 1
                self._freed.notify()
            raise
        with self._lock:
            if id(obj) in self._records:
                self._total -= 1
                self._freed.notify()
                raise UsageError(
                    f"the pool's factory returned an object it had already made "
                    f"({type(obj).__name__}); it must return a new object per call"
                )
            self._adopt(obj, lent=True)
            self._counts["objects_created"] += 1
            self._counts["misses"] += 1
        return obj

    def _reset_failed(self, record: list[Any]) -> None:
        """The object's ``reset()`` raised: drop and close it, freeing its place."""
        with self._lock:
            obj = self._disown(record)
            self._forget(1, reset_failures=1)
            self._freed.notify()
        _close(obj)

    def _after_release(self) -> None:
        """A waiter to wake, or a closed pool whose returning objects must be closed."""
        doomed: list[T] = []
        with self._lock:
            if self._closed:
                doomed = self._drain_idle()
            self._freed.notify()
        for obj in doomed:
            _close(obj)

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
        if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction <= 1:
            raise ConfigError(f"fraction must be in (0, 1], got {fraction!r}")
        dropped: list[T] = []
        with self._lock:
            count = min(len(self._idle), max(1, round(len(self._idle) * fraction)))
            for _ in range(count):
                try:
                    record = self._idle.popleft()
                except IndexError:  # lent meanwhile by a lock-free acquire
                    break
                dropped.append(self._disown(record))
            self._forget(len(dropped))
            if self._waiters:
                self._freed.notify(len(dropped))
        for obj in dropped:
            _close(obj)
        return len(dropped)

    def clear(self) -> int:
        """Close every idle object; lent objects are untouched. Returns how many were closed."""
        with self._lock:
            dropped = self._drain_idle()
            if self._waiters:
                self._freed.notify_all()
        for obj in dropped:
            _close(obj)
        return len(dropped)

    def close(self) -> None:
        """Close idle objects now and lent ones when released; ``acquire`` then raises."""
        with self._lock:
            self._closed = True
            self._alert = True
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
        ``released`` counts the releases that gave an object back (not those whose
        reset failed); ``in_use`` the objects lent now.
        """
        with self._lock:
            out: dict[str, float] = dict(self._counts)
            out["hits"] = self._hits
            out["idle"] = len(self._idle)
            out["in_use"] = sum(1 for r in self._records.values() if r[1])
        out["acquired"] = out["hits"] + out["misses"]
        out["released"] = out["acquired"] - out["in_use"] - out.pop("reset_failures")
        looked = out["acquired"]
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

    # -- internals (under the lock) ------------------------------------------------
    def _adopt(self, obj: T, *, lent: bool) -> list[Any]:
        """Make the record of a new object and own it."""
        cls = type(obj)
        resets = self._resets.get(cls)
        if resets is None:
            resets = self._resets[cls] = _resets(cls)
        record = [obj, lent, getattr(obj, "reset", None) if resets else None, time.monotonic()]
        self._records[id(obj)] = record
        return record

    def _disown(self, record: list[Any]) -> Any:
        """Forget the record of an object that leaves the pool; returns the object."""
        obj = record[0]
        self._records.pop(id(obj), None)
        record[1] = False
        return obj

    def _idle_objects(self) -> list[Any]:
        """A snapshot of the idle objects, oldest first (for tests and messages)."""
        return [record[0] for record in list(self._idle)]

    def _forget(self, count: int, **counters: int) -> None:
        """``count`` objects left the pool for good."""
        self._total -= count
        self._counts["closed"] += count
        for name, value in counters.items():
            self._counts[name] += value

    def _drain_idle(self) -> list[T]:
        """Take every idle object out (they are to be closed)."""
        out: list[T] = []
        while True:
            try:
                record = self._idle.popleft()
            except IndexError:
                break
            out.append(self._disown(record))
        self._forget(len(out))
        return out

    def _take_expired(self, now: float) -> list[T]:
        """Pop idle objects older than the ttl, oldest first, keeping min_size objects."""
        assert self.ttl is not None
        out: list[T] = []
        limit = now - self.ttl
        while self._total - len(out) > self.min_size:
            try:
                record = self._idle.popleft()
            except IndexError:
                break
            if record[3] >= limit:
                self._idle.appendleft(record)  # still fresh: back in its place
                break
            out.append(self._disown(record))
        self._forget(len(out), expired=len(out))
        return out

    def _release_error(self, obj: T) -> PoolReleaseError:
        """Say why ``obj`` cannot be released."""
        name = type(obj).__name__
        with self._lock:
            record = self._records.get(id(obj))
            twice = record is not None and record[0] is obj and not record[1]
        if twice:
            return PoolReleaseError(f"{name} object released twice: it is already back in the pool")
        return PoolReleaseError(
            f"{name} object was not acquired from this pool (or was already released and closed)"
        )
