"""memwatch.blocks.pool: ObjectPool and PoolableObject, single-threaded behaviour and bad input."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import memwatch.blocks.pool as pool_module
from memwatch.blocks import reclaim
from memwatch.blocks.pool import (
    ObjectPool,
    PoolableObject,
    PoolClosedError,
    PoolReleaseError,
    PoolTimeoutError,
)
from memwatch.errors import ConfigError, UsageError


class Conn(PoolableObject):
    made = 0

    def __init__(self) -> None:
        Conn.made += 1
        self.serial = Conn.made
        self.dirty = False
        self.resets = 0
        self.closes = 0

    def reset(self) -> None:
        self.dirty = False
        self.resets += 1

    def close(self) -> None:
        self.closes += 1


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(pool_module, "time", fake)
    return fake


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_size": -1}, "min_size must be >= 0"),
        ({"max_size": 0}, "max_size must be >= 1"),
        ({"max_size": -3}, "max_size must be >= 1"),
        ({"min_size": 5, "max_size": 2}, r"max_size \(2\) must be >= min_size \(5\)"),
        ({"max_size": 2.5}, "max_size must be an integer"),
        ({"min_size": True}, "min_size must be an integer"),
        ({"ttl": 0}, "ttl must be a positive number"),
        ({"ttl": -1.0}, "ttl must be a positive number"),
        ({"ttl": float("nan")}, "ttl must be a positive number"),
        ({"ttl": float("inf")}, "ttl must be a positive number"),
        ({"ttl": "soon"}, "invalid duration"),
        ({"ttl": [1]}, "ttl must be a number of seconds"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ObjectPool(Conn, **kwargs)


def test_factory_must_be_callable() -> None:
    with pytest.raises(ConfigError, match="factory must be callable"):
        ObjectPool(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("timeout", [-1, -0.001, float("nan"), True, "1"])
def test_bad_timeout(timeout: Any) -> None:
    pool = ObjectPool(Conn)
    with pytest.raises(ConfigError, match="timeout must be >= 0"):
        pool.acquire(timeout)


def test_ttl_accepts_a_duration_string() -> None:
    assert ObjectPool(Conn, ttl="2m").ttl == 120.0


def test_min_size_objects_are_made_up_front() -> None:
    pool = ObjectPool(Conn, min_size=3, max_size=5)
    s = pool.stats
    assert (s["objects_created"], s["idle"], s["in_use"]) == (3, 3, 0)
    assert (pool.min_size, pool.max_size) == (3, 5)


def test_hits_misses_and_reuse() -> None:
    pool = ObjectPool(Conn, max_size=2)
    a = pool.acquire()
    pool.release(a)
    b = pool.acquire()
    assert b is a
    c = pool.acquire()
    assert c is not a
    s = pool.stats
    assert (s["objects_created"], s["hits"], s["misses"]) == (2, 1, 2)
    assert s["hit_rate"] == pytest.approx(1 / 3)
    assert (s["in_use"], s["idle"], s["closed"]) == (2, 0, 0)
    assert s["acquired"] == 3


def test_stats_before_any_acquire() -> None:
    s = ObjectPool(Conn).stats
    for key in ("objects_created", "hits", "misses", "hit_rate", "in_use", "idle", "closed"):
        assert s[key] == 0


def test_most_recently_released_is_handed_out_first() -> None:
    pool = ObjectPool(Conn, max_size=3)
    a, b = pool.acquire(), pool.acquire()
    pool.release(a)
    pool.release(b)
    assert pool.acquire() is b


def test_reset_runs_on_release() -> None:
    pool = ObjectPool(Conn)
    obj = pool.acquire()
    obj.dirty = True
    pool.release(obj)
    assert (obj.dirty, obj.resets, obj.closes) == (False, 1, 0)


def test_plain_objects_without_reset_or_close() -> None:
    pool: ObjectPool[bytearray] = ObjectPool(lambda: bytearray(16), max_size=1, ttl=5)
    buf = pool.acquire()
    pool.release(buf)
    assert pool.acquire() is buf
    pool.release(buf)
    pool.close()
    assert pool.stats["closed"] == 1


def test_lease_releases_even_when_the_block_raises() -> None:
    pool = ObjectPool(Conn, max_size=1)
    with pytest.raises(RuntimeError), pool.lease() as obj:
        raise RuntimeError("inside")
    assert pool.stats["in_use"] == 0
    with pool.lease(timeout=0) as again:
        assert again is obj


def test_double_release_is_refused() -> None:
    pool = ObjectPool(Conn)
    obj = pool.acquire()
    pool.release(obj)
    with pytest.raises(PoolReleaseError, match="Conn object released twice"):
        pool.release(obj)
    assert pool.stats["idle"] == 1
    assert obj.resets == 1


def test_foreign_object_is_refused() -> None:
    pool = ObjectPool(Conn)
    stranger = Conn()
    with pytest.raises(PoolReleaseError, match="was not acquired from this pool"):
        pool.release(stranger)
    assert stranger.resets == 0
    other = ObjectPool(Conn)
    theirs = other.acquire()
    with pytest.raises(ValueError, match="was not acquired from this pool"):
        pool.release(theirs)
    other.release(theirs)  # still fine in its own pool


def test_timeout_when_all_are_in_use() -> None:
    pool = ObjectPool(Conn, max_size=2)
    held = [pool.acquire(), pool.acquire()]
    started = time.perf_counter()
    with pytest.raises(PoolTimeoutError, match=r"all 2 \(max_size\) are in use"):
        pool.acquire(timeout=0.05)
    assert time.perf_counter() - started >= 0.04
    with pytest.raises(TimeoutError):
        pool.acquire(timeout=0)
    s = pool.stats
    assert (s["timeouts"], s["objects_created"], s["in_use"]) == (2, 2, 2)
    for obj in held:
        pool.release(obj)


def test_waiting_acquire_gets_a_released_object() -> None:
    pool = ObjectPool(Conn, max_size=1)
    obj = pool.acquire()
    got: list[Conn] = []
    waiter = threading.Thread(target=lambda: got.append(pool.acquire(timeout=5)))
    waiter.start()
    time.sleep(0.05)
    pool.release(obj)
    waiter.join(5)
    assert got == [obj]
    assert pool.stats["waits"] == 1


def test_ttl_closes_idle_objects_but_keeps_min_size(clock: FakeClock) -> None:
    pool = ObjectPool(Conn, min_size=1, max_size=4, ttl=10)
    objs = [pool.acquire() for _ in range(3)]
    for obj in objs:
        pool.release(obj)
    clock.now += 5
    assert pool.evict_expired() == 0
    clock.now += 6
    assert pool.evict_expired() == 2  # three idle, expired; one stays for min_size
    s = pool.stats
    assert (s["idle"], s["expired"], s["closed"]) == (1, 2, 2)
    assert sum(o.closes for o in objs) == 2


def test_expired_objects_are_not_handed_out(clock: FakeClock) -> None:
    pool = ObjectPool(Conn, max_size=2, ttl=1.0)
    old = pool.acquire()
    pool.release(old)
    clock.now += 2
    fresh = pool.acquire()
    assert fresh is not old
    assert old.closes == 1
    assert pool.stats["misses"] == 2


def test_expiry_on_release(clock: FakeClock) -> None:
    pool = ObjectPool(Conn, max_size=2, ttl=1.0)
    a, b = pool.acquire(), pool.acquire()
    pool.release(a)
    clock.now += 2
    pool.release(b)
    assert (a.closes, b.closes) == (1, 0)
    assert pool.stats["idle"] == 1


def test_no_ttl_means_no_expiry() -> None:
    pool = ObjectPool(Conn)
    pool.release(pool.acquire())
    assert pool.evict_expired() == 0


def test_reset_failure_drops_the_object_and_frees_its_slot() -> None:
    class Bad(Conn):
        def reset(self) -> None:
            raise OSError("socket gone")

    pool = ObjectPool(Bad, max_size=1)
    obj = pool.acquire()
    with pytest.raises(OSError, match="socket gone"):
        pool.release(obj)
    assert obj.closes == 1
    assert pool.stats["closed"] == 1
    assert pool.acquire(timeout=0) is not obj


def test_factory_failure_frees_its_slot() -> None:
    calls = {"n": 0}

    def flaky() -> Conn:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("first try fails")
        return Conn()

    pool = ObjectPool(flaky, max_size=1)
    with pytest.raises(ConnectionError):
        pool.acquire()
    assert isinstance(pool.acquire(timeout=0), Conn)


def test_factory_returning_the_same_object_is_refused() -> None:
    single = Conn()
    pool = ObjectPool(lambda: single, max_size=2)
    pool.acquire()
    with pytest.raises(UsageError, match="must return a new object per call"):
        pool.acquire()


def test_close() -> None:
    pool = ObjectPool(Conn, min_size=2, max_size=3)
    lent = pool.acquire()
    pool.close()
    assert pool.closed
    with pytest.raises(PoolClosedError, match="closed pool"):
        pool.acquire()
    assert lent.closes == 0
    pool.release(lent)  # closed on release, not put back
    assert lent.closes == 1
    s = pool.stats
    assert (s["idle"], s["in_use"], s["closed"]) == (0, 0, 2)
    pool.close()  # idempotent


def test_context_manager_closes() -> None:
    with ObjectPool(Conn, min_size=1) as pool:
        obj = pool.acquire()
        pool.release(obj)
    assert obj.closes == 1


def test_shrink_and_clear_for_the_guard() -> None:
    pool = ObjectPool(Conn, min_size=4, max_size=8)
    assert pool in reclaim.registered()
    assert pool.shrink(0.5) == 2
    assert pool.stats["idle"] == 2
    assert pool.clear() == 2
    assert pool.stats["idle"] == 0
    with pytest.raises(ConfigError, match="fraction"):
        pool.shrink(0)
    pool.close()
    assert pool not in reclaim.registered()


def test_repr() -> None:
    assert "max_size=10" in repr(ObjectPool(Conn))


@settings(max_examples=150, deadline=None)
@given(
    min_size=st.integers(0, 3),
    extra=st.integers(0, 3),
    ttl=st.sampled_from([None, 5.0]),
    ops=st.lists(
        st.tuples(st.sampled_from(["acquire", "release", "tick", "shrink"]), st.integers(0, 10)), max_size=80
    ),
)
def test_pool_invariants_under_random_use(
    min_size: int, extra: int, ttl: float | None, ops: list[tuple[str, int]]
) -> None:
    clock = FakeClock()
    original = pool_module.time  # type: ignore[attr-defined]
    pool_module.time = clock  # type: ignore[assignment, attr-defined]
    try:
        max_size = max(1, min_size + extra)
        pool = ObjectPool(Conn, min_size=min_size, max_size=max_size, ttl=ttl)
        held: list[Conn] = []
        acquired = 0
        for op, n in ops:
            if op == "acquire":
                if len(held) == max_size:
                    with pytest.raises(PoolTimeoutError):
                        pool.acquire(timeout=0)
                    continue
                obj = pool.acquire(timeout=0)
                assert all(obj is not h for h in held), "lent to two holders"
                assert obj.closes == 0, "a closed object was lent"
                held.append(obj)
                acquired += 1
            elif op == "release" and held:
                pool.release(held.pop(n % len(held)))
            elif op == "tick":
                before = pool.stats
                clock.now += n
                pool.evict_expired()
                after = pool.stats
                total_before = before["in_use"] + before["idle"]
                assert after["in_use"] + after["idle"] >= min(min_size, total_before)
            elif op == "shrink":
                pool.shrink(0.5)
            s = pool.stats
            assert s["in_use"] == len(held)
            assert s["in_use"] + s["idle"] <= max_size
            assert s["hits"] + s["misses"] == acquired
            assert s["objects_created"] - s["closed"] == s["in_use"] + s["idle"]
        pool.close()
        for obj in held:
            pool.release(obj)
        assert pool.stats["objects_created"] == pool.stats["closed"]
    finally:
        pool_module.time = original  # type: ignore[attr-defined]
