"""Memory-bounded caches: LRU, TTL and memory-aware (adaptive), thread-safe, reclaimable.

``import memwatch.blocks.cache`` loads only the standard library (no numpy, no cachetools)::

    from memwatch.blocks.cache import LRUCache, TTLCache, AdaptiveCache
    LRUCache(max_size=1000, on_evict=callback, use_weak_refs=False)
    TTLCache(default_ttl=0.1).put("k", v, ttl=0.05)
    AdaptiveCache(max_size=100, max_memory_mb=1, eviction_batch_size=10)

See :mod:`memwatch.blocks.cache.base` for what all three share and
:mod:`memwatch.blocks.cache.sizing` for how :class:`AdaptiveCache` estimates sizes.
"""

from memwatch.blocks.cache.adaptive import (
    ENTRY_OVERHEAD,
    TABLE_BYTES_PER_ITEM,
    TABLE_FACTOR,
    AdaptiveCache,
    CacheValueTooLarge,
)
from memwatch.blocks.cache.base import CacheKeyError
from memwatch.blocks.cache.lru import LRUCache
from memwatch.blocks.cache.sizing import SizeEstimateError, estimate_size
from memwatch.blocks.cache.ttl import TTLCache

__all__ = [
    "ENTRY_OVERHEAD",
    "TABLE_BYTES_PER_ITEM",
    "TABLE_FACTOR",
    "AdaptiveCache",
    "CacheKeyError",
    "CacheValueTooLarge",
    "LRUCache",
    "SizeEstimateError",
    "TTLCache",
    "estimate_size",
]
