"""AdaptiveCache: an LRU cache bounded by item count *and* by the memory its values use."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Hashable
from typing import Any

from memwatch.blocks.cache.base import (
    BaseCache,
    Dropped,
    EvictCallback,
    check_hashable,
    check_positive_int,
    unhashable,
)
from memwatch.blocks.cache.sizing import FLAT_EXACT, SizeEstimateError, estimate_size
from memwatch.errors import ConfigError, UsageError
from memwatch.units import format_size

__all__ = ["ENTRY_OVERHEAD", "TABLE_BYTES_PER_ITEM", "TABLE_FACTOR", "AdaptiveCache", "CacheValueTooLarge"]

#: Bytes charged per item on top of key and value: the OrderedDict's linked-list node
#: and the size record kept here (an approximation for 64-bit CPython, on the high side).
ENTRY_OVERHEAD = 200
#: The hash tables (the OrderedDict's table and its node index, and the size dict here)
#: hold the same keys, so they are charged as this many times the size dict's own table
#: (three tables are charged as four: on the high side).
TABLE_FACTOR = 4
#: Worst case table bytes per item (a dict just after it grew, times TABLE_FACTOR):
#: max_size * this must fit in the memory bound.
TABLE_BYTES_PER_ITEM = 400


def _not_count(size: Any) -> bool:
    """Not a non-negative int (an exact int is checked first: the common case, cheaply)."""
    if size.__class__ is not int and (isinstance(size, bool) or not isinstance(size, int)):
        return True
    return bool(size < 0)


class CacheValueTooLarge(UsageError, ValueError):
    """A value that alone would exceed the cache's whole memory bound."""


class AdaptiveCache(BaseCache):
    """LRU cache of at most ``max_size`` items and about ``max_memory_mb`` MB (10**6 bytes).

    Each item is charged ``estimate_size(key) + estimate_size(value) + ENTRY_OVERHEAD``
    bytes (see :mod:`memwatch.blocks.cache.sizing` for what the estimate assumes), with
    ``size`` instead of the value's estimate when ``put(..., size=N)`` gives it, or
    what ``sizeof(value)`` returns when a ``sizeof`` function is given. The cache's
    hash tables are charged too (``TABLE_FACTOR`` times the size dict's table): they
    keep the capacity of the largest item count reached, so this part does not shrink
    when items leave. ``max_size * TABLE_BYTES_PER_ITEM`` must fit in the bound.

    Before storing, the least recently used items are evicted ``eviction_batch_size``
    at a time until the new item fits, so :attr:`memory_usage` never exceeds the bound
    (batches leave headroom, so the next puts need no eviction). In weak-value mode the
    value's size is still charged: the bound is on what the cache refers to.
    Under memory pressure the guard calls :meth:`shrink`, which returns bytes freed.
    """

    def __init__(
        self,
        max_size: int = 1000,
        max_memory_mb: float = 100.0,
        eviction_batch_size: int = 10,
        on_evict: EvictCallback | None = None,
        use_weak_refs: bool = False,
        sizeof: Callable[[Any], int] | None = None,
    ) -> None:
        super().__init__(max_size, on_evict, use_weak_refs)
        if (
            isinstance(max_memory_mb, bool)
            or not isinstance(max_memory_mb, int | float)
            or not 0 < max_memory_mb < math.inf
        ):
            raise ConfigError(f"max_memory_mb must be a positive number, got {max_memory_mb!r}")
        if sizeof is not None and not callable(sizeof):
            raise ConfigError(f"sizeof must be callable or None, got {sizeof!r}")
        self.max_memory = int(max_memory_mb * 1_000_000)
        if self.max_size * TABLE_BYTES_PER_ITEM > self.max_memory:
            raise ConfigError(
                f"max_size={self.max_size} needs up to {format_size(self.max_size * TABLE_BYTES_PER_ITEM)} "
                f"of hash tables, more than max_memory_mb={max_memory_mb:g} allows; lower max_size "
                "or raise max_memory_mb"
            )
        self.eviction_batch_size = check_positive_int("eviction_batch_size", eviction_batch_size)
        self._sizeof = sizeof or estimate_size
        self._sizes: dict[Hashable, int] = {}
        self._items = 0  # sum of the items' charges
        self._tables = self._table_bytes()
        self._start()

    @property
    def memory_usage(self) -> int:
        """Estimated bytes: the items held now plus the hash tables (always <= ``max_memory``)."""
        with self._lock:
            return self._items + self._tables

    def put(self, key: Hashable, value: Any, size: int | None = None) -> None:
        """Store ``value``, evicting least-recently-used batches until it fits the bound.

        The cost is the value's size estimate (skipped with ``size=`` or a cheap
        ``sizeof``) plus O(1) bookkeeping and O(1) per evicted item: the cache keeps a
        running total, it never walks its items.
        """
        charge = self._charge(key, value, size)
        stored = self._wrap(key, value) if self._weak else value
        data = self._data
        sizes = self._sizes
        dropped: Dropped = []
        refused: CacheValueTooLarge | None = None
        with self._lock:
            if self._dead:
                self._purge_dead()
            if charge + self._tables > self.max_memory:
                raise self._too_large(value, charge)
            if not sizes:  # an empty dict's pop() does not hash the key
                check_hashable(key)
            try:
                old = sizes.pop(key, None)
            except TypeError:
                raise unhashable(key) from None
            if old is not None:  # replaced: its old charge goes, no on_evict
                del data[key]
                self._items -= old
            if len(data) >= self.max_size:  # the count bound: make one place
                item = data.popitem(last=False)
                self._items -= sizes.pop(item[0], 0)
                self._evictions += 1
                dropped.append(item)
            if self._items + self._tables + charge > self.max_memory:
                dropped += self._evict_until(charge, keep=0)
            data[key] = stored
            sizes[key] = charge
            self._items += charge
            self._tables = TABLE_FACTOR * sys.getsizeof(sizes)  # grows when the dict resizes
            if self._items + self._tables > self.max_memory:  # rare: the tables grew past the room
                dropped += self._evict_until(0, keep=1)  # never the new item: it is the most recent
                if self._items + self._tables > self.max_memory:
                    self._remove(key)
                    refused = self._too_large(value, charge)
        if dropped and self._on_evict is not None:
            self._notify(dropped)  # outside the lock: the callback may use the cache
        if refused is not None:
            raise refused

    def shrink(self, fraction: float) -> int:
        """Evict about ``fraction`` of the items, least recently used first; returns bytes freed."""
        before = self.memory_usage
        super().shrink(fraction)
        return max(0, before - self.memory_usage)

    @property
    def stats(self) -> dict[str, float]:
        out = super().stats
        with self._lock:
            out["memory_usage"] = self._items + self._tables
            out["item_bytes"] = self._items
            out["table_bytes"] = self._tables
        out["max_memory"] = self.max_memory
        return out

    def __repr__(self) -> str:
        return (
            f"AdaptiveCache(size={self.size}, max_size={self.max_size}, "
            f"memory_usage={format_size(self.memory_usage)}, "
            f"max_memory={format_size(self.max_memory)})"
        )

    # -- accounting (lock held) --------------------------------------------------------
    def _charge(self, key: Hashable, value: Any, size: int | None) -> int:
        if size is None:
            size = self._sizeof(value)
            if _not_count(size):
                raise SizeEstimateError(
                    f"sizeof() returned {size!r} for a {type(value).__name__} "
                    "value; it must return a non-negative integer"
                )
        elif _not_count(size):
            raise ConfigError(f"size must be a non-negative integer number of bytes, got {size!r}")
        key_size = sys.getsizeof(key) if type(key) in FLAT_EXACT else estimate_size(key)
        return size + key_size + ENTRY_OVERHEAD

    def _too_large(self, value: Any, charge: int) -> CacheValueTooLarge:
        return CacheValueTooLarge(
            f"a {type(value).__name__} value of about {format_size(charge)} does not fit in "
            f"the cache's whole memory bound ({format_size(self.max_memory)}, of which the hash "
            f"tables take {format_size(self._tables)})"
        )

    def _evict_until(self, extra: int, keep: int) -> list[tuple[Any, Any]]:
        """Evict least-recent batches until ``extra`` more bytes fit, leaving ``keep`` items."""
        dropped: list[tuple[Any, Any]] = []
        while self._items + self._tables + extra > self.max_memory and len(self._data) > keep:
            dropped += self._evict(min(self.eviction_batch_size, len(self._data) - keep))
        return dropped

    def _table_bytes(self) -> int:
        return TABLE_FACTOR * sys.getsizeof(self._sizes)

    def _forget(self, key: Hashable) -> None:
        self._items -= self._sizes.pop(key, 0)

    def _after_clear(self) -> None:
        self._sizes.clear()  # dict.clear() also gives its table back
        self._items = 0
        self._tables = self._table_bytes()
