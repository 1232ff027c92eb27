"""LRUCache: a bounded, thread-safe least-recently-used cache (cachetools underneath)."""

from __future__ import annotations

from typing import Any

import cachetools

from memwatch.blocks.cache.base import BaseCache, EvictCallback

__all__ = ["LRUCache"]


class _CaptureLRU(cachetools.LRUCache[Any, Any]):
    """cachetools' LRU that records what it evicts, for the callback."""

    dropped: list[tuple[Any, Any]]

    def popitem(self) -> tuple[Any, Any]:
        item = super().popitem()
        self.dropped.append(item)
        return item


class LRUCache(BaseCache):
    """At most ``max_size`` items; a put into a full cache evicts the least recently used.

    ``get`` returns ``None`` (or ``default``) on a miss and marks a hit as most recently
    used. See :mod:`memwatch.blocks.cache.base` for ``on_evict``, ``use_weak_refs``, thread
    safety and reclaim.
    """

    def __init__(
        self, max_size: int = 1000, on_evict: EvictCallback | None = None, use_weak_refs: bool = False
    ) -> None:
        super().__init__(max_size, on_evict, use_weak_refs)
        self._store = _CaptureLRU(self.max_size)
        self._start()
