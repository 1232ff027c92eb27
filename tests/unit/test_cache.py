"""memwatch.blocks.cache: LRUCache, TTLCache, AdaptiveCache and the size estimate."""

from __future__ import annotations

import gc
import sys
import threading
from collections import OrderedDict, deque
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memwatch.blocks import reclaim
from memwatch.blocks.cache import (
    ENTRY_OVERHEAD,
    TABLE_FACTOR,
    AdaptiveCache,
    CacheKeyError,
    CacheValueTooLarge,
    LRUCache,
    SizeEstimateError,
    TTLCache,
    estimate_size,
)
from memwatch.errors import ConfigError, UsageError


class Box:
    """A weakly referenceable value."""

    def __init__(self, n: int = 0) -> None:
        self.n = n


class BrokenSize:
    def __sizeof__(self) -> int:
        raise RuntimeError("no idea")


class RaisingAttrs:
    @property
    def __dict__(self) -> dict[str, Any]:  # type: ignore[override]
        raise RuntimeError("no dict here")


class RaisingNbytes:
    @property
    def nbytes(self) -> int:
        raise ValueError("closed")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def recorder() -> tuple[list[tuple[Any, Any]], Any]:
    seen: list[tuple[Any, Any]] = []
    return seen, lambda k, v: seen.append((k, v))


# -- LRUCache -----------------------------------------------------------------------------
class TestLRU:
    def test_put_get_and_miss(self) -> None:
        cache = LRUCache(max_size=3)
        cache.put("a", 1)
        assert cache.get("a") == 1
        assert cache.get("zz") is None
        assert cache.get("zz", "dflt") == "dflt"
        assert (cache.size, cache.max_size, len(cache)) == (1, 3, 1)
        assert "a" in cache
        assert "zz" not in cache

    def test_evicts_least_recently_used_and_calls_back(self) -> None:
        seen, cb = recorder()
        cache = LRUCache(max_size=2, on_evict=cb)
        cache.put("a", 1)
        cache.put("b", 2)
        cache.get("a")  # a is now the most recent
        cache.put("c", 3)
        assert seen == [("b", 2)]
        assert cache.get("b") is None
        assert (cache.get("a"), cache.get("c")) == (1, 3)

    def test_overwrite_and_delete_do_not_call_back(self) -> None:
        seen, cb = recorder()
        cache = LRUCache(max_size=2, on_evict=cb)
        cache.put("a", 1)
        cache.put("a", 2)
        assert cache.get("a") == 2
        assert cache.delete("a") is True
        assert cache.delete("a") is False
        assert seen == []

    def test_clear_calls_back_for_each_item(self) -> None:
        seen, cb = recorder()
        cache = LRUCache(max_size=5, on_evict=cb)
        for i in range(3):
            cache.put(i, i * 10)
        assert cache.clear() == 3
        assert sorted(seen) == [(0, 0), (1, 10), (2, 20)]
        assert cache.size == 0

    def test_stats(self) -> None:
        cache = LRUCache(max_size=1)
        cache.put("a", 1)
        cache.get("a")
        cache.get("b")
        cache.put("b", 2)
        s = cache.stats
        assert (s["hits"], s["misses"], s["hit_rate"], s["evictions"], s["size"]) == (1, 1, 0.5, 1, 1)
        assert LRUCache().stats["hit_rate"] == 0.0

    def test_shrink_evicts_the_oldest_fraction(self) -> None:
        seen, cb = recorder()
        cache = LRUCache(max_size=10, on_evict=cb)
        for i in range(10):
            cache.put(i, i)
        assert cache.shrink(0.25) == 3
        assert [k for k, _ in seen] == [0, 1, 2]
        assert cache.size == 7

    @pytest.mark.parametrize("fraction", [0, -1, 1.01, float("nan"), True])
    def test_bad_fraction(self, fraction: Any) -> None:
        with pytest.raises(ConfigError, match="fraction must be in"):
            LRUCache().shrink(fraction)

    def test_callback_that_raises_is_logged(self, caplog: pytest.LogCaptureFixture) -> None:
        def bad(key: Any, value: Any) -> None:
            raise RuntimeError("callback broke")

        cache = LRUCache(max_size=1, on_evict=bad)
        cache.put("a", 1)
        cache.put("b", 2)
        assert cache.get("b") == 2
        assert "on_evict callback failed" in caplog.text

    def test_callback_may_use_the_cache(self) -> None:
        cache: LRUCache
        cache = LRUCache(max_size=1, on_evict=lambda k, v: cache.get(k))
        cache.put("a", 1)
        cache.put("b", 2)  # would deadlock if the callback ran under the lock
        assert cache.get("b") == 2

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"max_size": 0}, "max_size must be >= 1"),
            ({"max_size": -5}, "max_size must be >= 1"),
            ({"max_size": 2.0}, "max_size must be an integer"),
            ({"max_size": True}, "max_size must be an integer"),
            ({"on_evict": "print"}, "on_evict must be callable"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, Any], message: str) -> None:
        with pytest.raises(ConfigError, match=message):
            LRUCache(**kwargs)

    @pytest.mark.parametrize("op", ["put", "get", "delete", "contains"])
    def test_unhashable_key(self, op: str) -> None:
        cache = LRUCache()
        key: Any = ["a", "list"]
        calls = {
            "put": lambda: cache.put(key, 1),
            "get": lambda: cache.get(key),
            "delete": lambda: cache.delete(key),
            "contains": lambda: key in cache,
        }
        with pytest.raises(CacheKeyError, match="cache keys must be hashable; a list is not"):
            calls[op]()
        assert issubclass(CacheKeyError, TypeError)

    def test_weak_values_do_not_keep_values_alive(self) -> None:
        cache = LRUCache(max_size=4, use_weak_refs=True)
        box = Box(7)
        cache.put("k", box)
        assert cache.get("k") is box
        del box
        gc.collect()
        assert "k" not in cache
        assert cache.get("k") is None
        assert cache.size == 0
        assert cache.stats["misses"] == 1

    def test_weak_mode_purges_dead_entries_on_put(self) -> None:
        cache = LRUCache(max_size=4, use_weak_refs=True)
        for i in range(3):
            cache.put(i, Box(i))  # nothing else holds them
        gc.collect()
        keep = Box(9)
        cache.put("live", keep)
        assert cache.size == 1

    def test_weak_mode_replaced_value_dying_keeps_the_new_one(self) -> None:
        cache = LRUCache(max_size=4, use_weak_refs=True)
        old, new = Box(1), Box(2)
        cache.put("k", old)
        cache.put("k", new)
        del old
        gc.collect()
        assert cache.get("k") is new

    def test_weak_mode_refuses_values_without_weakref(self) -> None:
        cache = LRUCache(use_weak_refs=True)
        with pytest.raises(UsageError, match="a dict does not"):
            cache.put("k", {"x": 1})

    def test_weak_mode_eviction_callback_gets_the_value(self) -> None:
        seen, cb = recorder()
        cache = LRUCache(max_size=1, on_evict=cb, use_weak_refs=True)
        a, b = Box(1), Box(2)
        cache.put("a", a)
        cache.put("b", b)
        assert seen == [("a", a)]

    def test_registered_for_reclaim_until_closed(self) -> None:
        cache = LRUCache()
        cache.put("a", 1)
        assert cache in reclaim.registered()
        cache.close()
        assert cache not in reclaim.registered()
        assert cache.size == 0

    def test_threads(self) -> None:
        cache = LRUCache(max_size=50)
        errors: list[BaseException] = []

        def work(base: int) -> None:
            try:
                for i in range(2000):
                    cache.put((base, i % 80), i)
                    cache.get((base, (i * 7) % 80))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert cache.size == 50
        s = cache.stats
        assert s["hits"] + s["misses"] == 8000


# -- TTLCache -----------------------------------------------------------------------------
class TestTTL:
    def test_default_and_per_item_ttl(self) -> None:
        clock = Clock()
        seen, cb = recorder()
        cache = TTLCache(default_ttl=0.1, on_evict=cb, timer=clock)
        cache.put("k", "v", ttl=0.05)
        cache.put("j", "w")
        assert (cache.get("k"), cache.get("j"), cache.size) == ("v", "w", 2)
        clock.now += 0.06
        assert cache.get("k") is None
        assert cache.get("j") == "w"
        assert seen == [("k", "v")]
        clock.now += 0.05
        assert cache.size == 0
        assert seen == [("k", "v"), ("j", "w")]

    def test_expire_returns_how_many(self) -> None:
        clock = Clock()
        cache = TTLCache(default_ttl=1, timer=clock)
        for i in range(5):
            cache.put(i, i, ttl=1 + i)
        clock.now += 3.5
        assert cache.expire() == 3
        assert cache.size == 2

    def test_full_cache_evicts_least_recent(self) -> None:
        cache = TTLCache(default_ttl=60, max_size=2)
        cache.put("a", 1)
        cache.put("b", 2)
        cache.get("a")
        cache.put("c", 3)
        assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)

    def test_delete_of_expired_item(self) -> None:
        clock = Clock()
        cache = TTLCache(default_ttl=1, timer=clock)
        cache.put("a", 1)
        clock.now += 2
        assert cache.delete("a") is False
        assert cache.size == 0

    def test_shrink_and_clear(self) -> None:
        cache = TTLCache(default_ttl=60)
        for i in range(4):
            cache.put(i, i)
        assert cache.shrink(0.5) == 2
        assert cache.clear() == 2

    @pytest.mark.parametrize("ttl", [0, -1, float("nan"), float("inf"), "1", True])
    def test_bad_ttl(self, ttl: Any) -> None:
        with pytest.raises(ConfigError, match="ttl must be a"):
            TTLCache(default_ttl=ttl)
        with pytest.raises(ConfigError, match="ttl must be a"):
            TTLCache().put("k", 1, ttl=ttl)

    def test_unhashable_key(self) -> None:
        with pytest.raises(CacheKeyError):
            TTLCache().put({1}, 1)  # type: ignore[arg-type]


# -- AdaptiveCache ------------------------------------------------------------------------
def items(cache: AdaptiveCache) -> int:
    return int(cache.stats["item_bytes"])


class TestAdaptive:
    def test_charge_with_explicit_size(self) -> None:
        cache = AdaptiveCache(max_size=10, max_memory_mb=1)
        cache.put("k", object(), size=1000)
        assert items(cache) == 1000 + estimate_size("k") + ENTRY_OVERHEAD
        assert cache.max_memory == 1_000_000

    def test_memory_usage_is_items_plus_tables(self) -> None:
        cache = AdaptiveCache(max_size=100, max_memory_mb=1)
        for i in range(50):
            cache.put(i, None, size=10)
        twin: dict[int, int] = {}
        for i in range(50):
            twin[i] = 0
        s = cache.stats
        assert s["table_bytes"] == TABLE_FACTOR * sys.getsizeof(twin)
        assert cache.memory_usage == s["item_bytes"] + s["table_bytes"]
        cache.clear()
        assert cache.stats["table_bytes"] == TABLE_FACTOR * sys.getsizeof({})

    def test_charge_with_estimate(self) -> None:
        cache = AdaptiveCache(max_memory_mb=1)
        value = b"x" * 5000
        cache.put(1, value)
        assert items(cache) == sys.getsizeof(value) + sys.getsizeof(1) + ENTRY_OVERHEAD

    def test_evicts_in_batches_to_fit(self) -> None:
        seen, cb = recorder()
        cache = AdaptiveCache(max_size=100, max_memory_mb=0.1, eviction_batch_size=5, on_evict=cb)
        per_item = 9000 + estimate_size(0) + ENTRY_OVERHEAD
        for i in range(11):  # 11 * ~9.2 kB + tables > 100 kB: the 11th put evicts a batch of 5
            cache.put(i, None, size=9000)
            assert cache.memory_usage <= cache.max_memory
        assert [k for k, _ in seen] == [0, 1, 2, 3, 4]
        assert cache.size == 6
        assert items(cache) == 6 * per_item

    def test_count_bound_still_applies(self) -> None:
        cache = AdaptiveCache(max_size=3, max_memory_mb=10)
        for i in range(5):
            cache.put(i, i)
        assert cache.size == 3
        assert items(cache) == sum(estimate_size(i) * 2 + ENTRY_OVERHEAD for i in (2, 3, 4))

    def test_overwrite_and_delete_adjust_memory(self) -> None:
        cache = AdaptiveCache(max_memory_mb=1)
        cache.put("k", None, size=100)
        cache.put("k", None, size=300)
        assert items(cache) == 300 + estimate_size("k") + ENTRY_OVERHEAD
        cache.delete("k")
        assert items(cache) == 0

    def test_shrink_returns_bytes(self) -> None:
        cache = AdaptiveCache(max_memory_mb=1)
        for i in range(4):
            cache.put(i, None, size=1000)
        one = 1000 + estimate_size(0) + ENTRY_OVERHEAD
        assert cache.shrink(0.5) == 2 * one
        assert cache.clear() == 2
        assert items(cache) == 0

    def test_weak_mode_dead_values_give_their_charge_back(self) -> None:
        cache = AdaptiveCache(max_memory_mb=1, use_weak_refs=True)
        cache.put("k", Box(), size=500)
        gc.collect()
        assert cache.get("k") is None
        assert items(cache) == 0

    def test_value_larger_than_the_bound(self) -> None:
        cache = AdaptiveCache(max_size=2, max_memory_mb=0.002)
        cache.put("small", 1)
        with pytest.raises(CacheValueTooLarge, match=r"does not fit in the cache's whole memory bound"):
            cache.put("k", b"x" * 2000)
        assert cache.get("small") == 1  # nothing was evicted for a value that cannot fit

    def test_replacing_with_a_too_large_value_keeps_the_old_one(self) -> None:
        cache = AdaptiveCache(max_size=2, max_memory_mb=0.002)
        cache.put("k", 1)
        with pytest.raises(CacheValueTooLarge):
            cache.put("k", b"x" * 2000)
        assert cache.get("k") == 1

    def test_refused_put_calls_back_outside_the_lock(self) -> None:
        """The rare refusal after the hash tables grew on the insert used to call
        on_evict with the lock held: a callback using the cache deadlocked."""
        hit = False
        for n in range(12):
            for slack in range(0, 1200, 8):
                locked: list[bool] = []
                cache = AdaptiveCache(
                    max_size=20,
                    max_memory_mb=0.01,
                    eviction_batch_size=1,
                    on_evict=lambda k, v: locked.append(cache._lock.locked()),
                )
                for i in range(n):
                    cache.put(i, b"", size=0)
                room = cache.max_memory - int(cache.stats["table_bytes"])
                try:
                    cache.put("big", b"", size=room - slack - ENTRY_OVERHEAD - 50)
                except CacheValueTooLarge:
                    if locked:
                        hit = True
                        assert locked == [False] * len(locked)
                        assert "big" not in cache
                        assert cache.memory_usage <= cache.max_memory
                cache.close()
        assert hit, "no put reached the tables-grew refusal: adjust the search"

    def test_max_size_must_leave_room_for_the_tables(self) -> None:
        with pytest.raises(ConfigError, match=r"max_size=10000 needs up to .* of hash tables"):
            AdaptiveCache(max_size=10_000, max_memory_mb=1)

    def test_value_whose_size_cannot_be_estimated(self) -> None:
        cache = AdaptiveCache()
        with pytest.raises(SizeEstimateError, match="cannot estimate the size of a BrokenSize value"):
            cache.put("k", BrokenSize())
        cache.put("k", BrokenSize(), size=64)  # an explicit size is the way out
        assert cache.size == 1

    def test_value_with_a_raising_property_is_a_size_estimate_error(self) -> None:
        """A property that raises while the value is walked escaped as a bare RuntimeError."""
        cache = AdaptiveCache()
        with pytest.raises(
            SizeEstimateError,
            match=r"cannot estimate the size of a RaisingAttrs value \(RuntimeError: no dict",
        ):
            cache.put("k", RaisingAttrs())
        with pytest.raises(SizeEstimateError, match="RaisingNbytes value"):
            cache.put("k", RaisingNbytes())
        assert cache.size == 0

    @pytest.mark.parametrize("result", [-1, "big", 1.5, None])
    def test_bad_sizeof_function(self, result: Any) -> None:
        cache = AdaptiveCache(sizeof=lambda v: result)
        with pytest.raises(SizeEstimateError, match="must return a non-negative integer"):
            cache.put("k", 1)

    @pytest.mark.parametrize("size", [-1, 2.5, "10"])
    def test_bad_explicit_size(self, size: Any) -> None:
        with pytest.raises(ConfigError, match="size must be a non-negative integer"):
            AdaptiveCache().put("k", 1, size=size)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"max_memory_mb": 0}, "max_memory_mb must be a positive number"),
            ({"max_memory_mb": -1}, "max_memory_mb must be a positive number"),
            ({"max_memory_mb": float("inf")}, "max_memory_mb must be a positive number"),
            ({"max_memory_mb": "1 MB"}, "max_memory_mb must be a positive number"),
            ({"eviction_batch_size": 0}, "eviction_batch_size must be >= 1"),
            ({"max_size": 0}, "max_size must be >= 1"),
            ({"sizeof": 3}, "sizeof must be callable"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, Any], message: str) -> None:
        with pytest.raises(ConfigError, match=message):
            AdaptiveCache(**kwargs)

    def test_unhashable_key(self) -> None:
        with pytest.raises(CacheKeyError):
            AdaptiveCache().put([1], 1)  # type: ignore[arg-type]

    def test_threads_keep_the_bound(self) -> None:
        cache = AdaptiveCache(max_size=200, max_memory_mb=0.5, eviction_batch_size=7)
        over: list[int] = []
        errors: list[BaseException] = []

        def work(base: int) -> None:
            try:
                for i in range(1500):
                    cache.put((base, i % 300), None, size=(i * 37) % 9000)
                    cache.get((base, (i * 11) % 300))
                    used = cache.memory_usage
                    if used > cache.max_memory:
                        over.append(used)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert over == []
        s = cache.stats
        assert s["item_bytes"] + s["table_bytes"] == cache.memory_usage <= cache.max_memory
        assert s["size"] <= 200

    def test_stats_and_repr(self) -> None:
        cache = AdaptiveCache(max_memory_mb=1)
        cache.put("a", None, size=10)
        s = cache.stats
        assert s["memory_usage"] == cache.memory_usage
        assert s["max_memory"] == 1_000_000
        assert "max_memory=976.6 KiB" in repr(cache)


# -- estimate_size --------------------------------------------------------------------------
class Plain:
    def __init__(self) -> None:
        self.payload = b"y" * 1000


class Slotted:
    __slots__ = ("payload",)

    def __init__(self) -> None:
        self.payload = b"z" * 1000


class TestEstimate:
    def test_flat(self) -> None:
        value = "x" * 1000
        assert estimate_size(value) == sys.getsizeof(value)

    def test_list_counts_contents_and_shared_items_once(self) -> None:
        item = b"a" * 500
        other = b"b" * 300
        assert estimate_size([item, other]) == sys.getsizeof([item, other]) + sys.getsizeof(
            item
        ) + sys.getsizeof(other)
        assert estimate_size([item, item]) == sys.getsizeof([item, item]) + sys.getsizeof(item)

    def test_dict_counts_keys_and_values(self) -> None:
        d = {"key": b"v" * 100}
        assert estimate_size(d) == sys.getsizeof(d) + sys.getsizeof("key") + sys.getsizeof(b"v" * 100)

    def test_object_attributes_and_slots(self) -> None:
        plain = Plain()
        assert estimate_size(plain) == (
            sys.getsizeof(plain)
            + sys.getsizeof(plain.__dict__)
            + sys.getsizeof("payload")
            + sys.getsizeof(plain.payload)
        )
        slotted = Slotted()
        assert estimate_size(slotted) == sys.getsizeof(slotted) + sys.getsizeof(slotted.payload)

    def test_buffers_are_charged_what_they_keep_alive(self) -> None:
        view = memoryview(bytearray(100_000))
        assert estimate_size(view) == 100_000
        np = pytest.importorskip("numpy", reason="numpy is a dependency; this checks its views")
        base = np.zeros(10_000)
        assert estimate_size(base[10:]) == 9_990 * 8

    def test_depth_bound(self) -> None:
        inner = [b"q" * 10_000]
        nested = [[inner]]
        shallow = estimate_size(nested, max_depth=1)
        assert shallow == sys.getsizeof(nested) + sys.getsizeof([inner])
        assert estimate_size(nested) > shallow + 10_000

    def test_extrapolates_beyond_max_items(self) -> None:
        items = [bytes([i % 256]) * 100 + bytes(i // 256) for i in range(2000)]
        same = [b"%04d" % i + b"." * 96 for i in range(2000)]  # all the same size
        exact = sys.getsizeof(same) + sum(sys.getsizeof(x) for x in same)
        assert estimate_size(same, max_items=100) == exact
        assert estimate_size(items, max_items=2000) == sys.getsizeof(items) + sum(
            sys.getsizeof(x) for x in items
        )

    def test_classes_and_functions_are_not_owned(self) -> None:
        holder = [Plain, estimate_size, sys]
        assert estimate_size(holder) == sys.getsizeof(holder)

    def test_deque(self) -> None:
        dq = deque([b"d" * 100])
        assert estimate_size(dq) == sys.getsizeof(dq) + sys.getsizeof(b"d" * 100)

    def test_broken_sizeof(self) -> None:
        with pytest.raises(SizeEstimateError, match="BrokenSize"):
            estimate_size([BrokenSize()])

    def test_bad_bounds(self) -> None:
        with pytest.raises(ValueError, match="max_depth"):
            estimate_size(1, max_depth=-1)
        with pytest.raises(ValueError, match="max_items"):
            estimate_size(1, max_items=0)


def test_import_is_light() -> None:
    import subprocess

    code = (
        "import sys, memwatch.blocks.cache, memwatch.blocks.pool, memwatch.blocks.reclaim; "
        "print('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- properties against a reference model ------------------------------------------------------
OPS = st.lists(
    st.tuples(st.sampled_from(["put", "get", "delete"]), st.integers(0, 12), st.integers(0, 5000)),
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(max_size=st.integers(1, 6), ops=OPS)
def test_lru_matches_a_reference_model(max_size: int, ops: list[tuple[str, int, int]]) -> None:
    seen, cb = recorder()
    cache = LRUCache(max_size=max_size, on_evict=cb)
    model: OrderedDict[int, int] = OrderedDict()
    expected_evicted = []
    for op, key, value in ops:
        if op == "put":
            if key in model:
                model.move_to_end(key)
            elif len(model) == max_size:
                expected_evicted.append(model.popitem(last=False))
            model[key] = value
            cache.put(key, value)
        elif op == "get":
            assert cache.get(key) == model.get(key)
            if key in model:
                model.move_to_end(key)
        else:
            assert cache.delete(key) == (model.pop(key, None) is not None)
    assert cache.size == len(model)
    assert seen == expected_evicted
    cache.close()


@settings(max_examples=150, deadline=None)
@given(batch=st.integers(1, 8), ops=OPS)
def test_adaptive_accounting_invariants(batch: int, ops: list[tuple[str, int, int]]) -> None:
    held: dict[int, int] = {}
    evicted: list[int] = []
    cache = AdaptiveCache(
        max_size=8, max_memory_mb=0.02, eviction_batch_size=batch, on_evict=lambda k, v: evicted.append(k)
    )
    for op, key, size in ops:
        if op == "put":
            cache.put(key, None, size=size)
            held[key] = size
        elif op == "get":
            cache.get(key)
        else:
            cache.delete(key)
            held.pop(key, None)
        for k in evicted:
            held.pop(k, None)
        evicted.clear()
        s = cache.stats
        assert cache.memory_usage <= cache.max_memory
        assert s["size"] == len(held) <= 8
        assert s["item_bytes"] == sum(v + estimate_size(k) + ENTRY_OVERHEAD for k, v in held.items())
    cache.close()


# -- cost of the extras: O(1) per operation ---------------------------------------------------
def test_adaptive_put_measures_only_the_new_value() -> None:
    """The accounting is a running total: each put sizes its own value once, never the items held."""
    calls: list[int] = []

    def sizeof(value: Any) -> int:
        calls.append(value)
        return 100

    cache = AdaptiveCache(max_size=50, max_memory_mb=0.1, sizeof=sizeof)
    for i in range(500):
        cache.put(i, i)
    assert calls == list(range(500))
    assert cache.size == 50
    s = cache.stats
    assert s["item_bytes"] == 50 * (100 + sys.getsizeof(1) + ENTRY_OVERHEAD)
    cache.close()


def test_ttl_expiry_heap_stays_bounded_under_overwrites() -> None:
    clock = Clock()
    cache = TTLCache(default_ttl=60, max_size=10, timer=clock)
    for i in range(10_000):
        cache.put(i % 5, i)  # the same five keys, overwritten: 9,995 stale heap entries
    assert len(cache._heap) <= 2 * 5 + 64 + 1
    assert cache.size == 5
    clock.now += 61
    assert cache.expire() == 5
    assert len(cache._heap) == 0
    cache.close()


def test_ttl_overwrite_gets_a_fresh_time_to_live() -> None:
    clock = Clock()
    seen, cb = recorder()
    cache = TTLCache(default_ttl=10, timer=clock, on_evict=cb)
    cache.put("k", 1)
    clock.now += 8
    cache.put("k", 2)  # a new ttl from now: the first entry's expiry must not remove it
    clock.now += 8
    assert cache.get("k") == 2
    assert seen == []
    clock.now += 3
    assert cache.get("k") is None
    assert seen == [("k", 2)]
