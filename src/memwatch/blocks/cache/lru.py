"""LRUCache: a bounded, thread-safe least-recently-used cache."""

from __future__ import annotations

from memwatch.blocks.cache.base import BaseCache, EvictCallback

__all__ = ["LRUCache"]


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
        self._start()
