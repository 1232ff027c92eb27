"""What every memwatch cache shares: the store, the lock, eviction callbacks, weak values, reclaim.

The store is an :class:`collections.OrderedDict` kept in least-recently-used order
(the oldest first): a hit is ``move_to_end``, an eviction ``popitem(last=False)``,
all single C calls, so a hit costs one lock section and two dict operations. On top of
it this layer adds:

- **thread safety**: one lock around every operation on the store;
- **eviction callback** ``on_evict(key, value)``: called for each item the cache
  drops on its own (least-recently-used eviction, memory bound, ttl expiry,
  ``shrink``, ``clear``), *after* the lock is released, so the callback may use the
  cache. Not called for ``delete`` or for a value replaced by ``put``. A callback
  that raises is logged (WARNING) and the cache carries on;
- **weak values** (``use_weak_refs=True``): the cache holds ``weakref.ref(value)``, so
  it never keeps a value alive on its own; a collected value is a miss. Values must
  support weak references (instances of most classes do; int, str, list, dict do not);
- **reclaim**: the cache registers with :mod:`memwatch.blocks.reclaim`, so the guard's
  recovery ladder can ``shrink(fraction)`` or ``clear()`` it under memory pressure.

The extras cost nothing when unused: without a callback nothing is collected for
it, and without weak values ``get`` pays one attribute test. Used, each is O(1) per
evicted or collected item.
"""

from __future__ import annotations

import logging
import math
import threading
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from typing import Any

from memwatch.blocks import reclaim
from memwatch.errors import ConfigError, UsageError

__all__ = [
    "BaseCache",
    "CacheKeyError",
    "Dropped",
    "EvictCallback",
    "check_hashable",
    "check_positive_int",
    "unhashable",
]

_log = logging.getLogger("memwatch.blocks.cache")
EvictCallback = Callable[[Any, Any], object]
Dropped = list[tuple[Any, Any]]


class CacheKeyError(UsageError, TypeError):
    """A key that cannot be used in a cache (it is not hashable)."""


def check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise ConfigError(f"{name} must be >= 1, got {value}")
    return value


def unhashable(key: Any) -> CacheKeyError:
    return CacheKeyError(
        f"cache keys must be hashable; a {type(key).__name__} is not (use a tuple or a string instead)"
    )


def check_hashable(key: Any) -> None:
    try:
        hash(key)
    except TypeError:
        raise unhashable(key) from None


class BaseCache:
    """Shared machinery: an LRU-ordered store under a lock; subclasses add bounds and expiry."""

    def __init__(self, max_size: int, on_evict: EvictCallback | None, use_weak_refs: bool) -> None:
        self.max_size = check_positive_int("max_size", max_size)
        if on_evict is not None and not callable(on_evict):
            raise ConfigError(f"on_evict must be callable or None, got {on_evict!r}")
        self._on_evict = on_evict
        self._weak = bool(use_weak_refs)
        self._lock = threading.Lock()
        self._data: OrderedDict[Hashable, Any] = OrderedDict()  # least recently used first
        self._dead: deque[tuple[Hashable, weakref.ref[Any]]] = deque()  # filled by weakref callbacks
        self._hits = 0
        self._misses = 0
        self._evictions = 0

    # -- the public mapping-like API ------------------------------------------------
    def put(self, key: Hashable, value: Any) -> None:
        """Store ``value`` under ``key``, evicting the least recently used item if full."""
        stored = self._wrap(key, value) if self._weak else value
        data = self._data
        dropped: Dropped | None = None
        with self._lock:
            if self._dead:
                self._purge_dead()
            try:
                data[key] = stored
            except TypeError:
                raise unhashable(key) from None
            data.move_to_end(key)
            if len(data) > self.max_size:
                item = data.popitem(last=False)
                self._evictions += 1
                if self._on_evict is not None:
                    dropped = [item]
        if dropped is not None:
            self._notify(dropped)

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value stored under ``key`` (now the most recently used), else ``default``."""
        with self._lock:
            try:
                self._data.move_to_end(key)
            except KeyError:
                if not self._data:  # an empty OrderedDict says KeyError before hashing
                    check_hashable(key)
                self._misses += 1
                return default
            except TypeError:
                raise unhashable(key) from None
            value = self._data[key]
            if self._weak:
                value = value()
                if value is None:  # collected since it was stored
                    self._remove(key)
                    self._misses += 1
                    return default
            self._hits += 1
            return value

    def delete(self, key: Hashable) -> bool:
        """Remove ``key``; True when it was there. ``on_evict`` is not called."""
        with self._lock:
            dropped = self._refresh()
            try:
                present = key in self._data
            except TypeError:
                raise unhashable(key) from None
            if present:
                self._remove(key)
        self._notify(dropped)
        return present

    def __contains__(self, key: Hashable) -> bool:
        """Whether ``key`` is held (a collected or expired value is not); does not count as a use."""
        with self._lock:
            dropped = self._refresh()
            try:
                present = key in self._data
            except TypeError:
                raise unhashable(key) from None
        self._notify(dropped)
        return present

    def __len__(self) -> int:
        return self.size

    @property
    def size(self) -> int:
        """How many items the cache holds now."""
        with self._lock:
            dropped = self._refresh()
            count = len(self._data)
        self._notify(dropped)
        return count

    def clear(self) -> int:
        """Drop every item (``on_evict`` is called for each); returns how many were dropped."""
        with self._lock:
            dropped = self._refresh()
            dropped += list(self._data.items())
            self._data.clear()
            self._dead.clear()
            self._after_clear()
        self._notify(dropped)
        return len(dropped)

    def shrink(self, fraction: float) -> int:
        """Evict about ``fraction`` (0..1] of the items, least recently used first.

        Returns the number of items evicted (:class:`AdaptiveCache` returns bytes).
        """
        if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction <= 1:
            raise ConfigError(f"fraction must be in (0, 1], got {fraction!r}")
        with self._lock:
            expired = self._refresh()
            count = min(len(self._data), math.ceil(len(self._data) * fraction))
            dropped = self._evict(count)
        self._notify(expired + dropped)
        return len(dropped)

    def close(self) -> None:
        """Clear the cache and leave the reclaim registry."""
        self.clear()
        reclaim.unregister(self)

    @property
    def stats(self) -> dict[str, float]:
        """hits, misses, hit_rate (hits / lookups, 0.0 before any), evictions, size, max_size."""
        size = self.size
        with self._lock:
            looked = self._hits + self._misses
            return {
                "hits": self._hits,
                "misses": self._misses,
                "hit_rate": self._hits / looked if looked else 0.0,
                "evictions": self._evictions,
                "size": size,
                "max_size": self.max_size,
            }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, max_size={self.max_size})"

    # -- hooks for subclasses (called with the lock held) ---------------------------
    def _refresh(self) -> Dropped:
        """Drop collected weak values (and, in TTLCache, expired items); returns what expired."""
        if self._dead:
            self._purge_dead()
        return []

    def _forget(self, key: Hashable) -> None:
        """An item left the store (AdaptiveCache gives its charge back)."""

    def _after_clear(self) -> None:
        """Reset accounting after clear() (AdaptiveCache)."""

    # -- internals (lock held) -----------------------------------------------------------
    def _start(self) -> None:
        """Call at the end of a subclass's __init__, once it is ready to be shrunk."""
        reclaim.register(self)

    def _remove(self, key: Hashable) -> None:
        del self._data[key]
        self._forget(key)

    def _evict(self, count: int) -> Dropped:
        """Evict the ``count`` least recently used items; returns them (counted as evictions)."""
        data = self._data
        dropped = [data.popitem(last=False) for _ in range(min(count, len(data)))]
        for key, _ in dropped:
            self._forget(key)
        self._evictions += len(dropped)
        return dropped

    def _wrap(self, key: Hashable, value: Any) -> Any:
        dead = self._dead
        try:
            return weakref.ref(value, lambda ref: dead.append((key, ref)))
        except TypeError:
            raise UsageError(
                f"use_weak_refs=True needs values that support weak references; "
                f"a {type(value).__name__} does not"
            ) from None

    def _purge_dead(self) -> None:
        while self._dead:
            key, ref = self._dead.popleft()
            if self._data.get(key) is ref:
                self._remove(key)

    def _notify(self, dropped: Dropped) -> None:
        callback = self._on_evict
        if callback is None or not dropped:
            return
        for key, stored in dropped:
            value = stored() if self._weak else stored
            if self._weak and value is None:
                continue
            try:
                callback(key, value)
            except Exception:
                _log.warning("cache on_evict callback failed for key %r", key, exc_info=True)
