"""Dogfooding: the pool and the caches checked with memwatch's own kind of memory tests.

Python-level signals (tracemalloc, ``sys.getallocatedblocks``) are exact for
these pure-Python structures, so the bounds are tight but hold on a noisy machine.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
import weakref
from collections.abc import Callable, Iterator

import pytest

from memwatch.blocks.cache import AdaptiveCache, LRUCache, TTLCache
from memwatch.blocks.pool import ObjectPool, PoolableObject

pytestmark = pytest.mark.integration

MB = 1_000_000


class Buffer(PoolableObject):
    """A 10 KiB pooled buffer."""

    def __init__(self) -> None:
        self.data = bytearray(10 * 1024)
        self.length = 0

    def reset(self) -> None:
        self.length = 0


class Payload:
    """A weakly referenceable cached value with an obvious size."""

    def __init__(self, size: int = 100_000) -> None:
        self.data = bytearray(size)


@pytest.fixture
def traced() -> Iterator[None]:
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        yield
    finally:
        if started:
            tracemalloc.stop()


def _traced_growth(work: Callable[[], None]) -> int:
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    work()
    gc.collect()
    return tracemalloc.get_traced_memory()[0] - before


@pytest.mark.usefixtures("traced")
def test_thousand_acquire_release_cycles_grow_less_than_1_mb() -> None:
    pool = ObjectPool(Buffer, min_size=2, max_size=8)

    def cycles() -> None:
        for _ in range(1000):
            obj = pool.acquire()
            obj.length = 5
            pool.release(obj)
        for _ in range(1000):
            with pool.lease() as obj:
                obj.length = 1

    cycles()  # warm up: counters and the idle deque reach their steady size
    growth = _traced_growth(cycles)
    assert growth < 1 * MB, f"2,000 cycles grew traced memory by {growth:,} bytes"
    gc.collect()
    blocks = sys.getallocatedblocks()
    cycles()
    gc.collect()
    assert sys.getallocatedblocks() - blocks < 200
    assert pool.stats["objects_created"] <= 8
    pool.close()


@pytest.mark.usefixtures("traced")
def test_cache_churn_stays_bounded() -> None:
    cache = AdaptiveCache(max_size=500, max_memory_mb=2, eviction_batch_size=20)

    def churn() -> None:
        for i in range(3000):
            cache.put(i % 900, bytearray(5000))
            cache.get((i * 7) % 900)

    churn()
    growth = _traced_growth(churn)
    assert growth < 1 * MB, f"cache churn grew traced memory by {growth:,} bytes"
    assert cache.memory_usage <= cache.max_memory


@pytest.mark.parametrize(
    "make",
    [
        lambda: LRUCache(max_size=2),
        lambda: TTLCache(default_ttl=60, max_size=2),
        lambda: AdaptiveCache(max_size=2, max_memory_mb=10),
        lambda: AdaptiveCache(max_size=100, max_memory_mb=0.25, eviction_batch_size=1),
    ],
    ids=["lru", "ttl", "adaptive-count", "adaptive-memory"],
)
def test_eviction_frees_the_evicted_values(make: Callable[[], LRUCache]) -> None:
    cache = make()
    refs = []
    for i in range(5):
        value = Payload()
        refs.append(weakref.ref(value))
        cache.put(i, value)
        del value
    gc.collect()
    alive = [r() is not None for r in refs]
    assert alive[:3] == [False, False, False], "evicted values are still alive"
    assert alive[3:] == [True, True]


def test_eviction_callback_does_not_keep_values() -> None:
    seen: list[object] = []
    cache = LRUCache(max_size=1, on_evict=lambda k, v: seen.append(k))
    value = Payload()
    ref = weakref.ref(value)
    cache.put("a", value)
    del value
    cache.put("b", Payload(10))
    gc.collect()
    assert ref() is None
    assert seen == ["a"]


def test_expired_ttl_items_are_collectable() -> None:
    now = [0.0]
    cache = TTLCache(default_ttl=0.1, timer=lambda: now[0])
    value = Payload()
    ref = weakref.ref(value)
    cache.put("k", value, ttl=0.05)
    del value
    now[0] = 0.06
    assert cache.get("k") is None
    gc.collect()
    assert ref() is None, "an expired value is still held"


def test_expired_items_go_on_any_put() -> None:
    now = [0.0]
    cache = TTLCache(default_ttl=1, timer=lambda: now[0])
    refs = []
    for i in range(10):
        value = Payload(1000)
        refs.append(weakref.ref(value))
        cache.put(i, value)
        del value
    now[0] = 2.0
    cache.put("fresh", 1)
    gc.collect()
    assert all(r() is None for r in refs)


def test_reclaim_clear_frees_values() -> None:
    from memwatch.blocks import reclaim

    cache = AdaptiveCache(max_size=100, max_memory_mb=50)
    refs = []
    for i in range(10):
        value = Payload()
        refs.append(weakref.ref(value))
        cache.put(i, value)
        del value
    reclaim.shrink_all(0.5)
    gc.collect()
    assert sum(r() is None for r in refs) >= 5
    reclaim.clear_all()
    gc.collect()
    assert all(r() is None for r in refs)


def _pool_lifecycle() -> None:
    pool = ObjectPool(Buffer, min_size=2, max_size=6, ttl=30)
    held = [pool.acquire() for _ in range(5)]
    for obj in held:
        pool.release(obj)
    with pool.lease():
        pass
    pool.close()


def _cache_lifecycle() -> None:
    for cache in (
        LRUCache(max_size=50),
        TTLCache(default_ttl=30, max_size=50),
        AdaptiveCache(max_size=50, max_memory_mb=1),
    ):
        for i in range(100):
            cache.put(i, bytearray(1000))
            cache.get(i // 2)
        cache.close()


@pytest.mark.parametrize("lifecycle", [_pool_lifecycle, _cache_lifecycle], ids=["pool", "caches"])
def test_lifecycle_create_use_close_does_not_leak(lifecycle: Callable[[], None]) -> None:
    for _ in range(20):  # warm up: interned strings, code caches, registry dict size
        lifecycle()
    gc.collect()
    start = sys.getallocatedblocks()
    samples = []
    for _ in range(10):
        for _ in range(20):
            lifecycle()
        gc.collect()
        samples.append(sys.getallocatedblocks() - start)
    # A leak of even one object per lifecycle would add >= 200 blocks by the end.
    assert samples[-1] < 100, f"allocated blocks kept growing: {samples}"


@pytest.mark.parametrize("lifecycle", [_pool_lifecycle, _cache_lifecycle], ids=["pool", "caches"])
def test_lifecycle_is_clean_for_the_leak_engine(lifecycle: Callable[[], None]) -> None:
    from memwatch import detect_leaks

    report = detect_leaks(lifecycle, time_budget=10, attribute=False)
    assert not report.leak_detected, report.summary()
    assert report.passed


def test_the_leak_engine_sees_a_leaking_lifecycle() -> None:
    """Control: the same lifecycle keeping one pooled object per round is caught."""
    from memwatch import detect_leaks

    kept: list[Buffer] = []

    def leaky() -> None:
        pool = ObjectPool(Buffer, max_size=2)
        kept.append(pool.acquire())  # never released: each round keeps a 10 KiB buffer alive
        pool.close()

    report = detect_leaks(leaky, time_budget=10, attribute=False)
    assert report.leak_detected, report.summary()
