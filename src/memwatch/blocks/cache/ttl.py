"""TTLCache: items expire after a time to live, per cache or per item."""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Callable, Hashable
from typing import Any

from memwatch.blocks.cache.base import BaseCache, Dropped, EvictCallback, check_hashable, unhashable
from memwatch.errors import ConfigError

__all__ = ["TTLCache"]


def _check_ttl(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number of seconds, got {value!r}")
    if not 0 < value < math.inf:
        raise ConfigError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


class TTLCache(BaseCache):
    """At most ``max_size`` items, each gone ``ttl`` seconds after it was put.

    ``put(key, value, ttl=None)`` uses ``default_ttl`` unless ``ttl`` is given. Expired
    items are removed from the cache (so their values can be collected) on the next
    ``put``, ``get``, ``size``, ``shrink``, ``clear`` or an explicit :meth:`expire`:
    there is no background thread. A full cache evicts the least recently used item.
    ``on_evict`` is called for expired items too. ``timer`` (default
    ``time.monotonic``) can be replaced for tests.

    Expiry times sit in a heap (the soonest on top), so finding what has expired is
    O(1) when nothing has and O(log n) per expired item; entries left behind by a
    replaced or deleted key are skipped when they surface, and the heap is rebuilt
    when such entries outnumber the live ones.
    """

    def __init__(
        self,
        default_ttl: float = 60.0,
        max_size: int = 1000,
        on_evict: EvictCallback | None = None,
        use_weak_refs: bool = False,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(max_size, on_evict, use_weak_refs)
        self.default_ttl = _check_ttl("default_ttl", default_ttl)
        self._timer = timer
        self._expires: dict[Hashable, float] = {}
        self._heap: list[tuple[float, int, Hashable]] = []
        self._order = itertools.count()  # ties on the expiry time never compare keys
        self._start()

    def put(self, key: Hashable, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` for ``ttl`` seconds (``default_ttl`` when None)."""
        seconds = self.default_ttl if ttl is None else _check_ttl("ttl", ttl)
        stored = self._wrap(key, value) if self._weak else value
        data = self._data
        with self._lock:
            now = self._timer()
            dropped = self._refresh_at(now)
            try:
                data[key] = stored
            except TypeError:
                raise unhashable(key) from None
            data.move_to_end(key)
            expires = now + seconds
            self._expires[key] = expires
            heapq.heappush(self._heap, (expires, next(self._order), key))
            if len(data) > self.max_size:
                dropped += self._evict(1)
            if len(self._heap) > 2 * len(data) + 64:
                self._rebuild_heap()
        if dropped:
            self._notify(dropped)

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value stored under ``key`` if it has not expired, else ``default``."""
        dropped: Dropped = []
        with self._lock:
            now = self._timer()
            heap = self._heap
            if self._dead or (heap and heap[0][0] <= now):
                dropped = self._refresh_at(now)
            try:
                self._data.move_to_end(key)
            except KeyError:
                if not self._data:  # an empty OrderedDict says KeyError before hashing
                    check_hashable(key)
                self._misses += 1
                value = default
            except TypeError:
                raise unhashable(key) from None
            else:
                value = self._data[key]
                if self._weak:
                    value = value()
                    if value is None:
                        self._remove(key)
                        self._misses += 1
                        value = default
                    else:
                        self._hits += 1
                else:
                    self._hits += 1
        if dropped:
            self._notify(dropped)
        return value

    def expire(self) -> int:
        """Remove the items whose time is up now; returns how many were removed."""
        with self._lock:
            dropped = self._refresh()
        self._notify(dropped)
        return len(dropped)

    # -- hooks (lock held) -----------------------------------------------------------
    def _refresh(self) -> Dropped:
        return self._refresh_at(self._timer())

    def _refresh_at(self, now: float) -> Dropped:
        """Drop collected weak values and the items whose time is up; returns the expired."""
        if self._dead:
            self._purge_dead()
        heap = self._heap
        dropped: Dropped = []
        while heap and heap[0][0] <= now:
            expires, _, key = heapq.heappop(heap)
            if self._expires.get(key) == expires:  # else an entry left by a replaced key
                del self._expires[key]
                dropped.append((key, self._data.pop(key)))
        self._evictions += len(dropped)
        return dropped

    def _forget(self, key: Hashable) -> None:
        self._expires.pop(key, None)

    def _after_clear(self) -> None:
        self._expires.clear()
        self._heap.clear()

    def _rebuild_heap(self) -> None:
        self._heap = [(t, next(self._order), k) for k, t in self._expires.items()]
        heapq.heapify(self._heap)
