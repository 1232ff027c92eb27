"""TTLCache: items expire after a time to live, per cache or per item (cachetools underneath)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable
from typing import Any

import cachetools

from memwatch.blocks.cache.base import BaseCache, EvictCallback, unhashable
from memwatch.errors import ConfigError

__all__ = ["TTLCache"]


def _check_ttl(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number of seconds, got {value!r}")
    if not 0 < value < math.inf:
        raise ConfigError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


class _CaptureTLRU(cachetools.TLRUCache[Any, Any]):
    """cachetools' time-aware LRU that records what it evicts or expires.

    The time to live of the item being stored is passed in ``next_ttl`` (set under
    the cache's lock just before the store), so values need no wrapper.
    """

    dropped: list[tuple[Any, Any]]
    next_ttl: float

    def __init__(self, maxsize: int, timer: Callable[[], float]) -> None:
        super().__init__(maxsize, self._ttu, timer)

    def _ttu(self, _key: Any, _value: Any, now: float) -> float:
        return now + self.next_ttl

    def popitem(self) -> tuple[Any, Any]:
        item = super().popitem()
        self.dropped.append(item)
        return item

    def expire(self, time: float | None = None) -> Any:  # cachetools' own signature
        expired = super().expire(time)
        self.dropped.extend(expired)
        return expired


class TTLCache(BaseCache):
    """At most ``max_size`` items, each gone ``ttl`` seconds after it was put.

    ``put(key, value, ttl=None)`` uses ``default_ttl`` unless ``ttl`` is given. Expired
    items are removed from the cache (so their values can be collected) on the next
    ``put``, ``get``, ``size``, ``shrink``, ``clear`` or an explicit :meth:`expire`:
    there is no background thread. A full cache evicts the least recently used item.
    ``on_evict`` is called for expired items too. ``timer`` (default
    ``time.monotonic``) can be replaced for tests.
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
        self._store = _CaptureTLRU(self.max_size, timer)
        self._store.next_ttl = self.default_ttl
        self._start()

    def put(self, key: Hashable, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` for ``ttl`` seconds (``default_ttl`` when None)."""
        seconds = self.default_ttl if ttl is None else _check_ttl("ttl", ttl)
        stored = self._wrap(key, value)
        with self._lock:
            self._purge_dead()
            self._store.next_ttl = seconds
            try:
                self._store[key] = stored
            except TypeError:
                raise unhashable(key) from None
            finally:
                self._store.next_ttl = self.default_ttl
            dropped = self._drain()
        self._notify(dropped)

    def get(self, key: Hashable, default: Any = None) -> Any:
        self.expire()
        return super().get(key, default)

    def expire(self) -> int:
        """Remove the items whose time is up now; returns how many were removed."""
        with self._lock:
            self._store.expire()
            dropped = self._drain()
        self._notify(dropped)
        return len(dropped)

    def _refresh(self) -> None:
        self._store.expire()

    def _remove(self, key: Hashable) -> None:
        try:
            del self._store[key]
        except KeyError:  # cachetools removes an expired item, then says it was missing
            pass
