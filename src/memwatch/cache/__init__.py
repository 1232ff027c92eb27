"""Memory-bounded caches: LRU, TTL and memory-aware (adaptive), thread-safe, reclaimable.

``import memwatch.cache`` loads only cachetools (no numpy)::

    from memwatch.cache import LRUCache, TTLCache, AdaptiveCache
    LRUCache(max_size=1000, on_evict=callback, use_weak_refs=False)
    TTLCache(default_ttl=0.1).put("k", v, ttl=0.05)
    AdaptiveCache(max_size=100, max_memory_mb=1, eviction_batch_size=10)

See :mod:`memwatch.cache.base` for what all three share and
:mod:`memwatch.cache.sizing` for how :class:`AdaptiveCache` estimates sizes.
"""

from memwatch.cache.adaptive import (
    ENTRY_OVERHEAD,
    TABLE_BYTES_PER_ITEM,
    TABLE_FACTOR,
    AdaptiveCache,
    CacheValueTooLarge,
)
from memwatch.cache.base import CacheKeyError
from memwatch.cache.lru import LRUCache
from memwatch.cache.sizing import SizeEstimateError, estimate_size
from memwatch.cache.ttl import TTLCache

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
