"""memwatch's pool and caches beside the references they are built on, in one run.

    .venv/bin/python benchmarks/bench_blocks.py [--quick] [--rounds N] [--no-bound]

Every implementation of an operation is timed in each round, in a rotated order
(A B C, then B C A, ...), as a tight loop of ``n`` calls; the table gives the median
over the rounds of ns per operation (the loop's own few ns included, the same for
all) and the ratios of those medians. Absolute times move with the machine's load
(recorded from /proc/loadavg at the start and the end); the ratios, measured side
by side, are the figures to compare.

1. ObjectPool acquire+release of 10 KiB ``bytearray`` objects, beside a pool on
   ``queue.SimpleQueue`` (its C methods called directly, and wrapped in a minimal
   Python class), and beside creating the ``bytearray`` directly. Targets: a pair at
   least 2x faster than direct creation, and >= 2 M pairs/s.
2. ``LRUCache.get`` on a hit, ``LRUCache.put`` with eviction, ``TTLCache.get`` and
   ``put``, ``AdaptiveCache.put`` with eviction, beside cachetools' cache of the
   same kind bare and behind a ``threading.Lock`` (both called through a function,
   as memwatch's are), and ``functools.lru_cache``. Targets: get <= 1.2x and put with
   eviction <= 1.5x the locked cachetools.
3. ``AdaptiveCache`` stays under its memory bound at every step of a run of puts of
   random sizes (accounting and tracemalloc checked after every put), and its put
   costs the same with 1,000 or 20,000 items held (no walk over the cache).

Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import platform
import queue
import random
import statistics
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import cachetools

from memwatch.blocks.cache import AdaptiveCache, LRUCache, TTLCache
from memwatch.blocks.pool import ObjectPool, PoolableObject

Timer = Callable[[int], float]  # n -> seconds for n operations
SIZE = 10 * 1024
KEYS = list(range(1000))


def loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "n/a"


def compare(timers: dict[str, Timer], rounds: int, n: int) -> dict[str, float]:
    """Median ns per operation for each timer, over ``rounds`` rotated rounds."""
    names = list(timers)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for name in names:  # warm-up
        timers[name](max(1, n // 10))
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            samples[name].append(timers[name](n) / n * 1e9)
    return {name: statistics.median(v) for name, v in samples.items()}


# -- 1. pool ---------------------------------------------------------------------------
class QueuePool:
    """The floor for any pool with a Python API: SimpleQueue behind two methods, no checks."""

    def __init__(self, factory: Callable[[], Any], size: int) -> None:
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for _ in range(size):
            self._q.put(factory())

    def acquire(self) -> Any:
        return self._q.get_nowait()

    def release(self, obj: Any) -> None:
        self._q.put(obj)


class Buffer(PoolableObject):
    """A 10 KiB buffer whose reset is logical (the length back to 0)."""

    def __init__(self) -> None:
        self.data = bytearray(SIZE)
        self.length = 0

    def reset(self) -> None:
        self.length = 0


def pair_timer(acquire: Callable[[], Any], release: Callable[[Any], None]) -> Timer:
    def run(n: int) -> float:
        clock = time.perf_counter
        start = clock()
        for _ in range(n):
            release(acquire())
        return clock() - start

    return run


def direct_timer(n: int) -> float:
    clock = time.perf_counter
    start = clock()
    for _ in range(n):
        bytearray(10240)
    return clock() - start


def buffer_timer(n: int) -> float:
    clock = time.perf_counter
    start = clock()
    for _ in range(n):
        Buffer()
    return clock() - start


def bench_pool(rounds: int, n: int) -> tuple[list[str], bool]:
    def make() -> bytearray:
        return bytearray(SIZE)

    plain: ObjectPool[bytearray] = ObjectPool(make, min_size=1, max_size=4)
    timed: ObjectPool[bytearray] = ObjectPool(make, min_size=1, max_size=4, ttl=60)
    hooked: ObjectPool[Buffer] = ObjectPool(Buffer, min_size=1, max_size=4)
    simple: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
    simple.put(make())
    wrapped = QueuePool(make, 1)
    timers: dict[str, Timer] = {
        "memwatch ObjectPool, bytearray(10240)": pair_timer(plain.acquire, plain.release),
        "memwatch ObjectPool, same with ttl=60": pair_timer(timed.acquire, timed.release),
        "memwatch ObjectPool, PoolableObject with reset()": pair_timer(hooked.acquire, hooked.release),
        "SimpleQueue get_nowait/put, called directly": pair_timer(simple.get_nowait, simple.put),
        "SimpleQueue in a 2-method Python class": pair_timer(wrapped.acquire, wrapped.release),
        "creating bytearray(10240) directly": direct_timer,
        "creating a Buffer (a class holding a bytearray(10240)) directly": buffer_timer,
    }
    med = compare(timers, rounds, n)
    direct = med["creating bytearray(10240) directly"]
    ours = med["memwatch ObjectPool, bytearray(10240)"]
    lines = [
        f"**1. Pool: acquire + release pair** (ns per pair, median of {rounds} rotated rounds of {n:,})",
        "",
        "| implementation | ns per pair | pairs/s | direct creation / this | this / SimpleQueue direct |",
        "|---|---:|---:|---:|---:|",
    ]
    simple_ns = med["SimpleQueue get_nowait/put, called directly"]
    for name, ns in med.items():
        lines.append(
            f"| {name} | {ns:,.0f} | {1e9 / ns / 1e6:.1f} M | {direct / ns:.2f}x | {ns / simple_ns:.2f}x |"
        )
    ok_ratio = direct / ours >= 2
    ok_rate = 1e9 / ours >= 2e6
    lines += [
        "",
        f"Targets for `ObjectPool` (plain): direct creation / pair >= 2x: "
        f"{'met' if ok_ratio else 'MISSED'} ({direct / ours:.2f}x); >= 2 M pairs/s: "
        f"{'met' if ok_rate else 'MISSED'} ({1e9 / ours / 1e6:.1f} M/s).",
        f"For a class instance (`Buffer`, whose `__init__` makes the bytearray), creating it directly "
        f"/ a pooled pair with its reset(): "
        f"{med['creating a Buffer (a class holding a bytearray(10240)) directly'] / med['memwatch ObjectPool, PoolableObject with reset()']:.2f}x. "
        f"The floor of any pool a Python class wraps (two Python-level calls): "
        f"{med['SimpleQueue in a 2-method Python class']:,.0f} ns per pair.",
    ]
    for pool in (plain, timed, hooked):
        pool.close()
    return lines, ok_ratio and ok_rate


# -- 2. caches -------------------------------------------------------------------------
def get_timer(get: Callable[[Any], Any]) -> Timer:
    def run(n: int) -> float:
        keys = KEYS * (n // len(KEYS) + 1)
        del keys[n:]
        clock = time.perf_counter
        start = clock()
        for k in keys:
            get(k)
        return clock() - start

    return run


def put_timer(put: Callable[[Any, Any], Any]) -> Timer:
    """Puts of new keys into a full cache: each evicts one item."""
    counter = [10_000]

    def run(n: int) -> float:
        first = counter[0]
        counter[0] += n
        keys = range(first, first + n)
        clock = time.perf_counter
        start = clock()
        for k in keys:
            put(k, k)
        return clock() - start

    return run


def locked_get(cache: Any) -> Callable[[Any], Any]:
    lock = threading.Lock()

    def get(key: Any) -> Any:
        with lock:
            return cache.get(key)

    return get


def locked_set(cache: Any) -> Callable[[Any, Any], None]:
    lock = threading.Lock()

    def put(key: Any, value: Any) -> None:
        with lock:
            cache[key] = value

    return put


def filled(cache: Any, put: Callable[[Any, Any], Any]) -> Any:
    for k in KEYS:
        put(k, k)
    return cache


def bench_caches(rounds: int, n: int) -> tuple[list[str], bool]:
    lines = [
        f"**2. Caches** (ns per call, median of {rounds} rotated rounds of {n:,} calls; 1,000 items, "
        "int keys; a put with eviction stores a new key into the full cache)",
        "",
        "| operation | memwatch | cachetools | cachetools + Lock | other | memwatch / (cachetools + Lock) | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    ok = True

    def row(op: str, timers: dict[str, Timer], target: float | None, other: str = "") -> None:
        nonlocal ok
        med = compare(timers, rounds, n)
        ours, bare, locked = med["memwatch"], med["cachetools"], med["locked"]
        ratio = ours / locked
        extra = f"{med['other']:,.0f} ({other})" if "other" in med else ""
        verdict = ""
        if target is not None:
            met = ratio <= target
            ok &= met
            verdict = f"<= {target}x: {'met' if met else 'MISSED'}"
        lines.append(
            f"| {op} | {ours:,.0f} | {bare:,.0f} | {locked:,.0f} | {extra} | {ratio:.2f}x | {verdict} |"
        )

    # LRU get (hit)
    ours = LRUCache(max_size=1000)
    filled(ours, ours.put)
    bare: cachetools.LRUCache[Any, Any] = cachetools.LRUCache(maxsize=1000)
    filled(bare, bare.__setitem__)

    @functools.lru_cache(maxsize=1000)
    def cached(k: int) -> int:
        return k

    for k in KEYS:
        cached(k)
    row(
        "`LRUCache.get`, hit",
        {
            "memwatch": get_timer(ours.get),
            "cachetools": get_timer(bare.get),
            "locked": get_timer(locked_get(bare)),
            "other": get_timer(cached),
        },
        1.2,
        "`functools.lru_cache` hit",
    )
    # LRU get with an eviction callback and weak values (the extras, used)
    evicted: list[Any] = []
    extras = LRUCache(max_size=1000, on_evict=lambda k, v: evicted.append(k))
    filled(extras, extras.put)
    row(
        "`LRUCache.get`, hit, with `on_evict` set",
        {
            "memwatch": get_timer(extras.get),
            "cachetools": get_timer(bare.get),
            "locked": get_timer(locked_get(bare)),
        },
        1.2,
    )
    # LRU put with eviction
    ours_p = LRUCache(max_size=1000)
    filled(ours_p, ours_p.put)
    bare_p: cachetools.LRUCache[Any, Any] = cachetools.LRUCache(maxsize=1000)
    filled(bare_p, bare_p.__setitem__)
    lock_p: cachetools.LRUCache[Any, Any] = cachetools.LRUCache(maxsize=1000)
    filled(lock_p, lock_p.__setitem__)
    row(
        "`LRUCache.put`, with eviction",
        {
            "memwatch": put_timer(ours_p.put),
            "cachetools": put_timer(bare_p.__setitem__),
            "locked": put_timer(locked_set(lock_p)),
        },
        1.5,
    )
    cb_p = LRUCache(max_size=1000, on_evict=lambda k, v: None)
    filled(cb_p, cb_p.put)
    lock_p2: cachetools.LRUCache[Any, Any] = cachetools.LRUCache(maxsize=1000)
    filled(lock_p2, lock_p2.__setitem__)
    row(
        "`LRUCache.put`, with eviction and an `on_evict` callback (a no-op)",
        {
            "memwatch": put_timer(cb_p.put),
            "cachetools": put_timer(bare_p.__setitem__),
            "locked": put_timer(locked_set(lock_p2)),
        },
        1.5,
    )
    # TTL
    ttl = TTLCache(default_ttl=3600, max_size=1000)
    filled(ttl, ttl.put)
    bare_t: cachetools.TTLCache[Any, Any] = cachetools.TTLCache(maxsize=1000, ttl=3600)
    filled(bare_t, bare_t.__setitem__)
    row(
        "`TTLCache.get`, hit (vs `cachetools.TTLCache`)",
        {
            "memwatch": get_timer(ttl.get),
            "cachetools": get_timer(bare_t.get),
            "locked": get_timer(locked_get(bare_t)),
        },
        1.2,
    )
    ttl_p = TTLCache(default_ttl=3600, max_size=1000)
    filled(ttl_p, ttl_p.put)
    bare_tp: cachetools.TTLCache[Any, Any] = cachetools.TTLCache(maxsize=1000, ttl=3600)
    filled(bare_tp, bare_tp.__setitem__)
    lock_tp: cachetools.TTLCache[Any, Any] = cachetools.TTLCache(maxsize=1000, ttl=3600)
    filled(lock_tp, lock_tp.__setitem__)
    row(
        "`TTLCache.put`, with eviction (vs `cachetools.TTLCache`)",
        {
            "memwatch": put_timer(ttl_p.put),
            "cachetools": put_timer(bare_tp.__setitem__),
            "locked": put_timer(locked_set(lock_tp)),
        },
        1.5,
    )
    # Adaptive: memory-bounded LRU vs cachetools' LRU bounded by sys.getsizeof
    ada = AdaptiveCache(max_size=1000, max_memory_mb=100)
    filled(ada, ada.put)
    sized = functools.partial(cachetools.LRUCache, maxsize=1000 * 128, getsizeof=sys.getsizeof)
    bare_a: cachetools.LRUCache[Any, Any] = sized()
    filled(bare_a, bare_a.__setitem__)
    lock_a: cachetools.LRUCache[Any, Any] = sized()
    filled(lock_a, lock_a.__setitem__)
    row(
        "`AdaptiveCache.put`, with eviction by count (vs `cachetools.LRUCache(getsizeof=sys.getsizeof)`)",
        {
            "memwatch": put_timer(ada.put),
            "cachetools": put_timer(bare_a.__setitem__),
            "locked": put_timer(locked_set(lock_a)),
        },
        1.5,
    )
    ada_m = AdaptiveCache(max_size=2000, max_memory_mb=0.128 * 1000 / 128 * 2)
    filled(ada_m, ada_m.put)
    lock_m: cachetools.LRUCache[Any, Any] = sized()
    filled(lock_m, lock_m.__setitem__)
    row(
        "`AdaptiveCache.put`, with eviction by memory, batch 10",
        {
            "memwatch": put_timer(ada_m.put),
            "cachetools": put_timer(bare_a.__setitem__),
            "locked": put_timer(locked_set(lock_m)),
        },
        1.5,
    )
    ada_g = AdaptiveCache(max_size=1000, max_memory_mb=100)
    filled(ada_g, ada_g.put)
    row(
        "`AdaptiveCache.get`, hit",
        {
            "memwatch": get_timer(ada_g.get),
            "cachetools": get_timer(bare_a.get),
            "locked": get_timer(locked_get(bare_a)),
        },
        1.2,
    )
    for cache in (ours, extras, ours_p, cb_p, ttl, ttl_p, ada, ada_m, ada_g):
        cache.close()
    return lines, ok


# -- 3. AdaptiveCache bound and O(1) put -------------------------------------------------
def bench_adaptive_bound(puts: int) -> tuple[list[str], bool]:
    bound_mb = 8.0
    rng = random.Random(20261121)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    cache = AdaptiveCache(max_size=10_000, max_memory_mb=bound_mb, eviction_batch_size=50)
    worst_accounted = worst_real = violations = 0
    started = time.perf_counter()
    for i in range(puts):
        cache.put(i % 30_000, bytes(rng.randint(0, 64 * 1024)))
        used = cache.memory_usage
        worst_accounted = max(worst_accounted, used)
        violations += used > cache.max_memory
        worst_real = max(worst_real, tracemalloc.get_traced_memory()[0] - base)
    elapsed = time.perf_counter() - started
    tracemalloc.stop()
    bound = cache.max_memory
    evictions = cache.stats["evictions"]
    cache.close()
    ok = violations == 0 and worst_real <= bound
    return [
        f"**3. AdaptiveCache under its bound** (`max_size=10_000, max_memory_mb={bound_mb:g}, "
        f"eviction_batch_size=50`; {puts:,} puts of 0-64 KiB values, seeded; tracemalloc on; {elapsed:.1f} s): "
        f"accounted memory at most {worst_accounted:,} of {bound:,} bytes, over the bound {violations} times; "
        f"real traced memory at most {worst_real:,} bytes ({worst_real / bound:.1%} of the bound); "
        f"{evictions:,.0f} evictions. Under the bound at every step: {'yes' if ok else 'NO'}.",
    ], ok


def bench_adaptive_scaling(rounds: int, n: int) -> tuple[list[str], bool]:
    """Put-with-eviction cost with a small and a large cache: equal when nothing walks the cache."""
    small = AdaptiveCache(max_size=1000, max_memory_mb=100)
    large = AdaptiveCache(max_size=20_000, max_memory_mb=100)
    for k in range(1000):
        small.put(k, k)
    for k in range(20_000):
        large.put(k, k)
    med = compare({"1,000": put_timer(small.put), "20,000": put_timer(large.put)}, rounds, n)
    ratio = med["20,000"] / med["1,000"]
    ok = ratio <= 1.5
    small.close()
    large.close()
    return [
        f"**4. AdaptiveCache.put cost vs cache size** (put with eviction, ns): 1,000 items "
        f"{med['1,000']:,.0f}, 20,000 items {med['20,000']:,.0f} ({ratio:.2f}x; "
        f"O(1) per put: {'yes' if ok else 'NO'}, bar <= 1.5x).",
    ], ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and operations")
    parser.add_argument(
        "--rounds", type=int, default=None, help="rounds per comparison (default 15, quick 5)"
    )
    parser.add_argument("--no-bound", action="store_true", help="skip the AdaptiveCache bound run (slow)")
    args = parser.parse_args()
    rounds = args.rounds or (5 if args.quick else 15)
    n = 20_000 if args.quick else 100_000
    start_load = loadavg()
    print(
        f"bench_blocks: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, cachetools {cachetools.__version__}, "
        f"load average at start {start_load}"
    )
    print()
    ok = True
    sections = [bench_pool(rounds, n), bench_caches(rounds, n), bench_adaptive_scaling(rounds, n // 2)]
    if not args.no_bound:
        sections.append(bench_adaptive_bound(20_000 if args.quick else 100_000))
    for lines, met in sections:
        print("\n".join(lines))
        print()
        ok &= met
    print(f"load average at the end {loadavg()}; all targets {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
