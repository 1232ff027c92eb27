"""Pool and cache performance, side by side in one run.

    .venv/bin/python benchmarks/bench_blocks.py [--quick]

1. ``LRUCache.get`` on a hit: median µs per call (target <= 1 µs), and its ratio
   to ``cachetools.LRUCache.get`` (not thread-safe, no lock) and to a
   ``functools.lru_cache`` hit (C, no eviction callback): A, B, C alternate each round.
2. ``ObjectPool`` acquire+release for a 10 KiB object vs constructing the object
   directly (target >= 2x faster), for three kinds of 10 KiB object: a zeroed
   bytearray, a list of 1,280 slots, and a buffer initialised with content.
3. ``AdaptiveCache`` stays under its memory bound at every step of a 100,000-put run
   with values of random sizes: the accounting and the real memory (tracemalloc)
   are both checked after every put.

Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import functools
import gc
import random
import statistics
import struct
import sys
import time
import tracemalloc
from collections.abc import Callable

import cachetools

from memwatch.blocks.cache import AdaptiveCache, LRUCache
from memwatch.blocks.pool import ObjectPool

KEYS = list(range(1000))


def per_call_us(fn: Callable[[int], object], batches: int) -> list[float]:
    """Time ``batches`` batches of 1,000 calls; µs per call for each batch."""
    out = []
    clock = time.perf_counter
    for _ in range(batches):
        start = clock()
        for key in KEYS:
            fn(key)
        out.append((clock() - start) / len(KEYS) * 1e6)
    return out


def bench_cache_get(rounds: int) -> bool:
    ours = LRUCache(max_size=1000)
    theirs: cachetools.LRUCache[int, int] = cachetools.LRUCache(maxsize=1000)
    for k in KEYS:
        ours.put(k, k)
        theirs[k] = k

    @functools.lru_cache(maxsize=1000)
    def cached(k: int) -> int:
        return k

    for k in KEYS:
        cached(k)
    impls: dict[str, Callable[[int], object]] = {
        "memwatch LRUCache.get": ours.get,
        "cachetools LRUCache.get": theirs.get,
        "functools.lru_cache hit": cached,
    }
    samples: dict[str, list[float]] = {name: [] for name in impls}
    for _ in range(rounds):  # alternate A, B, C in every round
        for name, fn in impls.items():
            samples[name] += per_call_us(fn, 40)
    med = {name: statistics.median(v) for name, v in samples.items()}
    ours_us = med["memwatch LRUCache.get"]
    print(
        "1. cache get on a hit (1,000 keys, all cached), µs per call, median of "
        f"{len(samples['memwatch LRUCache.get'])} batches of 1,000"
    )
    for name, value in med.items():
        print(f"   {name:<26} {value:7.3f} µs   memwatch / this = {ours_us / value:5.2f}x")
    ok = ours_us <= 1.0
    print(f"   target <= 1 µs: {'met' if ok else 'MISSED'}")
    return ok


class ZeroedBuffer:
    """10 KiB of zeroes; reset is logical (length back to 0)."""

    def __init__(self) -> None:
        self.data = bytearray(10 * 1024)
        self.length = 0

    def reset(self) -> None:
        self.length = 0


class SlotList:
    """A list of 1,280 slots (10 KiB of pointers on 64-bit)."""

    def __init__(self) -> None:
        self.items: list[object] = [None] * 1280

    def reset(self) -> None:
        self.items[0] = None


class InitialisedBuffer:
    """A 10 KiB buffer built with content: a header plus 1,280 packed sequence numbers."""

    def __init__(self) -> None:
        self.data = bytearray(struct.pack("<1280Q", *range(1280)))
        self.length = 0

    def reset(self) -> None:
        self.length = 0


def bench_pool(rounds: int, n: int) -> bool:
    print(
        "2. ObjectPool acquire+release vs constructing the 10 KiB object, ns per operation "
        f"(median of {rounds} alternating rounds of {n:,})"
    )
    met = []
    for cls in (ZeroedBuffer, SlotList, InitialisedBuffer):
        pool = ObjectPool(cls, min_size=1, max_size=4)
        acquire, release = pool.acquire, pool.release
        pooled, direct = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(n):
                release(acquire())
            pooled.append((time.perf_counter() - start) / n * 1e9)
            start = time.perf_counter()
            for _ in range(n):
                cls()
            direct.append((time.perf_counter() - start) / n * 1e9)
        pool.close()
        p, d = statistics.median(pooled), statistics.median(direct)
        ratio = d / p
        met.append(ratio >= 2)
        print(
            f"   {cls.__name__:<18} pool {p:8.0f} ns   construct {d:8.0f} ns   "
            f"construct / pool = {ratio:5.2f}x   target >= 2x: {'met' if ratio >= 2 else 'MISSED'}"
        )
    return all(met)


def bench_adaptive(puts: int) -> bool:
    bound_mb = 8.0
    rng = random.Random(20261121)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    cache = AdaptiveCache(max_size=10_000, max_memory_mb=bound_mb, eviction_batch_size=50)
    worst_accounted = 0
    worst_real = 0
    violations = 0
    started = time.perf_counter()
    for i in range(puts):
        cache.put(i % 30_000, bytes(rng.randint(0, 64 * 1024)))
        used = cache.memory_usage
        worst_accounted = max(worst_accounted, used)
        if used > cache.max_memory:
            violations += 1
        worst_real = max(worst_real, tracemalloc.get_traced_memory()[0] - base)
    elapsed = time.perf_counter() - started
    tracemalloc.stop()
    bound = cache.max_memory
    print(
        f"3. AdaptiveCache(max_size=10_000, max_memory_mb={bound_mb:g}, eviction_batch_size=50): "
        f"{puts:,} puts of 0..64 KiB values in {elapsed:.1f} s (tracemalloc on)"
    )
    print(
        f"   accounted memory: max {worst_accounted:,} of {bound:,} bytes "
        f"({worst_accounted / bound:.1%}), checked after every put, over the bound {violations} times"
    )
    print(
        f"   real traced memory (cache, keys, values) after every put: max {worst_real:,} bytes "
        f"({worst_real / bound:.1%} of the bound)"
    )
    print(f"   evictions {cache.stats['evictions']:,.0f}, items held at the end {cache.size:,}")
    ok = violations == 0 and worst_real <= bound
    print(f"   under the bound at every step: {'yes' if ok else 'NO'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and puts")
    args = parser.parse_args()
    rounds = 5 if args.quick else 15
    ok = bench_cache_get(rounds)
    ok &= bench_pool(rounds, 20_000 if args.quick else 100_000)
    ok &= bench_adaptive(20_000 if args.quick else 100_000)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
