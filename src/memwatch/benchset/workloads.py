"""The workloads of the memory benchmark set: each returns its repeated samples.

Every workload runs once unmeasured (warm-up), then ``rounds`` measured times and
returns one sample per round; the runner reports the median. What each measures:

- ``allocation_rate``: small objects (a two-slot class) created and kept in a list,
  then dropped, per second. Includes the allocator and the collector's normal work.
- ``pool_rate``: ``ObjectPool`` acquire+release pairs per second, 10 KiB objects,
  one thread, no contention.
- ``memory_bandwidth``: ``numpy.copyto`` between two preallocated arrays, bytes
  copied per second in GB/s (10**9); each byte is read once and written once, so the
  memory traffic is twice the figure.
- ``gc_pauses``: cyclic garbage churned against a live set, every collection timed
  by :class:`~memwatch.gcwatch.GCMonitor`; samples are pause times in ms.
- ``cache_hit_rate``: an ``LRUCache`` of 1,000 items in front of 10,000 keys drawn
  from a Zipf(1.2) law (seeded, so deterministic): get, and put on a miss. One
  sample per 10,000 lookups.
- ``cache_get_latency``: ``LRUCache.get`` on a hit, in µs per call, timed in
  batches of 1,000 calls (the loop's own overhead, ~20 ns, is included).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "allocation_rate",
    "cache_get_latency",
    "cache_hit_rate",
    "gc_pauses",
    "memory_bandwidth",
    "pool_rate",
]


class _Small:
    __slots__ = ("a", "b")

    def __init__(self, a: int, b: int) -> None:
        self.a = a
        self.b = b


class _Buffer10K:
    """A pooled 10 KiB buffer whose reset is logical (no memset)."""

    def __init__(self) -> None:
        self.data = bytearray(10 * 1024)
        self.length = 0

    def reset(self) -> None:
        self.length = 0


def _rounds(work: Callable[[], float], rounds: int) -> list[float]:
    work()  # warm-up
    return [work() for _ in range(rounds)]


def allocation_rate(quick: bool) -> list[float]:
    n = 50_000 if quick else 200_000

    def once() -> float:
        start = time.perf_counter()
        keep = [_Small(i, i) for i in range(n)]
        elapsed = time.perf_counter() - start
        del keep
        return n / elapsed

    return _rounds(once, 3 if quick else 7)


def pool_rate(quick: bool) -> list[float]:
    from memwatch.blocks.pool import ObjectPool

    n = 20_000 if quick else 100_000
    pool = ObjectPool(_Buffer10K, min_size=1, max_size=4)
    acquire, release = pool.acquire, pool.release

    def once() -> float:
        start = time.perf_counter()
        for _ in range(n):
            release(acquire())
        return n / (time.perf_counter() - start)

    try:
        return _rounds(once, 3 if quick else 7)
    finally:
        pool.close()


def memory_bandwidth(quick: bool) -> list[float]:
    import numpy as np

    size = (16 if quick else 64) * 2**20
    src = np.ones(size, dtype=np.uint8)
    dst = np.empty_like(src)

    def once() -> float:
        start = time.perf_counter()
        np.copyto(dst, src)
        return size / (time.perf_counter() - start) / 1e9

    return _rounds(once, 5 if quick else 11)


def gc_pauses(quick: bool) -> list[float]:
    """Pause of every collection during the churn, in ms (empty if none happened)."""
    from memwatch.gcwatch import GCMonitor

    live = [[i] for i in range(50_000 if quick else 200_000)]  # a gen2 worth scanning
    churn = 100_000 if quick else 500_000
    was_enabled = gc.isenabled()
    thresholds = gc.get_threshold()
    gc.enable()
    if thresholds[0] == 0:  # threshold 0 turns automatic collection off: measure CPython's default
        gc.set_threshold(700, 10, 10)
    gc.collect()
    try:
        with GCMonitor(count_objects=False) as monitor:
            for i in range(churn):
                node: list[Any] = [i]
                node.append(node)  # a reference cycle: only the collector frees it
        report = monitor.report
    finally:
        gc.set_threshold(*thresholds)
        if not was_enabled:
            gc.disable()
        del live
    return [float(d) for d in report.events.duration_ms]


def cache_hit_rate(quick: bool) -> list[float]:
    import numpy as np

    from memwatch.blocks.cache.lru import LRUCache

    draws = 50_000 if quick else 200_000
    rng = np.random.default_rng(20261121)
    keys = ((rng.zipf(1.2, size=draws) - 1) % 10_000).tolist()
    cache = LRUCache(max_size=1000)
    rates = []
    try:
        for start in range(0, draws, 10_000):
            hits = 0
            for key in keys[start : start + 10_000]:
                if cache.get(key) is None:
                    cache.put(key, key)
                else:
                    hits += 1
            rates.append(hits / len(keys[start : start + 10_000]))
    finally:
        cache.close()
    return rates[1:] if len(rates) > 1 else rates  # the first chunk fills the cache


def cache_get_latency(quick: bool) -> list[float]:
    from memwatch.blocks.cache.lru import LRUCache

    cache = LRUCache(max_size=1000)
    for i in range(1000):
        cache.put(i, i)
    keys = list(range(1000))
    get = cache.get

    def once() -> float:
        start = time.perf_counter()
        for key in keys:
            get(key)
        return (time.perf_counter() - start) / len(keys) * 1e6

    try:
        return _rounds(once, 21 if quick else 101)
    finally:
        cache.close()
