"""ObjectPool under contention: 10 real threads acquiring and releasing with work in between."""

from __future__ import annotations

import statistics
import sys
import threading
import time

import pytest

from memwatch.blocks.pool import ObjectPool, PoolableObject, PoolTimeoutError

pytestmark = pytest.mark.integration

THREADS = 10
ROUNDS = 200


class Slot(PoolableObject):
    """Records who holds it, so two holders at once are caught in the act."""

    def __init__(self) -> None:
        self.holder: int | None = None
        self.uses = 0

    def reset(self) -> None:
        self.holder = None


class Tracker:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_use = 0
        self.peak = 0
        self.errors: list[str] = []

    def enter(self) -> None:
        with self.lock:
            self.in_use += 1
            self.peak = max(self.peak, self.in_use)

    def leave(self) -> None:
        with self.lock:
            self.in_use -= 1


def _run_threads(target: object, count: int) -> list[threading.Thread]:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]  # type: ignore[arg-type]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    return threads


def test_ten_threads_share_a_small_pool_safely() -> None:
    pool = ObjectPool(Slot, min_size=1, max_size=4)
    tracker = Tracker()
    elapsed = [0.0] * THREADS
    done = [0] * THREADS
    start = threading.Barrier(THREADS)

    def worker(index: int) -> None:
        me = threading.get_ident()
        start.wait()
        t0 = time.perf_counter()
        for _ in range(ROUNDS):
            with pool.lease(timeout=30) as slot:
                tracker.enter()
                if slot.holder is not None:
                    tracker.errors.append(f"{index}: object already held by {slot.holder}")
                slot.holder = me
                slot.uses += 1
                time.sleep(0.0002)  # hold it while other threads run and wait
                sum(range(200))  # a little work
                if slot.holder != me:
                    tracker.errors.append(f"{index}: object taken over while held")
                tracker.leave()
            done[index] += 1
        elapsed[index] = time.perf_counter() - t0

    _run_threads(worker, THREADS)

    assert tracker.errors == []
    assert done == [ROUNDS] * THREADS
    assert tracker.peak <= 4
    s = pool.stats
    assert s["objects_created"] <= 4
    assert s["waits"] > 0  # there was contention to survive
    assert s["in_use"] == 0
    assert s["acquired"] == s["released"] == THREADS * ROUNDS
    assert s["hits"] + s["misses"] == THREADS * ROUNDS
    # Every thread finished the same work in a comparable time: none was starved.
    median = statistics.median(elapsed)
    assert max(elapsed) <= 10 * median + 0.5, elapsed
    pool.close()


def test_no_object_goes_to_two_holders_with_max_size_one() -> None:
    pool = ObjectPool(Slot, max_size=1)
    tracker = Tracker()

    def worker(index: int) -> None:
        for _ in range(100):
            slot = pool.acquire(timeout=30)
            tracker.enter()
            if slot.holder is not None:
                tracker.errors.append(f"{index}: two holders")
            slot.holder = index
            time.sleep(0)
            slot.holder = None
            tracker.leave()
            pool.release(slot)

    _run_threads(worker, THREADS)
    assert tracker.errors == []
    assert tracker.peak == 1
    assert pool.stats["objects_created"] == 1


def test_acquire_times_out_with_a_clear_error_under_contention() -> None:
    pool = ObjectPool(Slot, max_size=2)
    outcomes: list[str] = []
    lock = threading.Lock()
    hold = threading.Event()

    def worker(index: int) -> None:
        try:
            slot = pool.acquire(timeout=0.2)
        except PoolTimeoutError as exc:
            with lock:
                outcomes.append(f"timeout: {exc}")
            return
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            with lock:
                outcomes.append(f"unexpected {type(exc).__name__}: {exc}")
            return
        with lock:
            outcomes.append("got")
        hold.wait(5)  # keep it until the others have timed out
        pool.release(slot)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(outcomes) < THREADS and time.monotonic() < deadline:
        time.sleep(0.01)
    hold.set()
    for t in threads:
        t.join(10)

    assert outcomes.count("got") == 2
    timeouts = [o for o in outcomes if o.startswith("timeout")]
    assert len(timeouts) == THREADS - 2
    assert all("all 2 (max_size) are in use" in o for o in timeouts)
    s = pool.stats
    assert (s["timeouts"], s["in_use"], s["idle"]) == (THREADS - 2, 0, 2)


class Buf:
    """A plain object (no reset, no PoolableObject): the lock-free fast path all the way."""

    def __init__(self) -> None:
        self.data = bytearray(64)
        self.closed = False

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("ttl", [None, 30.0])
@pytest.mark.parametrize("with_shrink", [False, True])
def test_eight_threads_hammering_the_fast_path(ttl: float | None, with_shrink: bool) -> None:
    """8 threads, no sleeps, tiny switch interval: no object lent twice, none lost, max_size held."""
    pool: ObjectPool[Buf] = ObjectPool(Buf, min_size=1, max_size=3, ttl=ttl)
    holders: dict[int, int] = {}
    guard = threading.Lock()
    errors: list[str] = []
    peak = [0]
    seen: set[int] = set()
    stop = threading.Event()
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)

    def worker(index: int) -> None:
        for _ in range(3_000):
            try:
                obj = pool.acquire(timeout=30)
            except Exception as exc:  # pragma: no cover - reported by the assertion
                errors.append(f"{index}: {type(exc).__name__}: {exc}")
                return
            with guard:
                if id(obj) in holders:
                    errors.append(f"{index}: lent while held by {holders[id(obj)]}")
                if obj.closed:
                    errors.append(f"{index}: a closed object was lent")
                holders[id(obj)] = index
                seen.add(id(obj))
                peak[0] = max(peak[0], len(holders))
            obj.data[0] = index  # use it
            with guard:
                del holders[id(obj)]
            pool.release(obj)

    def shrinker() -> None:
        while not stop.is_set():
            pool.shrink(0.5)
            time.sleep(0.001)

    helper = threading.Thread(target=shrinker) if with_shrink else None
    try:
        if helper is not None:
            helper.start()
        _run_threads(worker, 8)
    finally:
        stop.set()
        if helper is not None:
            helper.join(10)
        sys.setswitchinterval(old)

    assert errors == []
    assert peak[0] <= 3
    s = pool.stats
    assert s["in_use"] == 0
    assert s["acquired"] == s["released"] == 8 * 3_000
    assert s["hits"] + s["misses"] == 8 * 3_000
    # None lost: every object made is either idle now or was closed, never both, never neither.
    assert s["objects_created"] - s["closed"] == s["idle"]
    assert s["idle"] <= 3
    if not with_shrink:
        assert s["objects_created"] <= 3
    idle = pool._idle_objects()
    assert len({id(o) for o in idle}) == len(idle)  # no object twice in the idle stack
    assert not any(o.closed for o in idle)
    pool.close()
    assert all(o.closed for o in idle)
