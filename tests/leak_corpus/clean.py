"""Operations that are NOT leaks, including the traps a naive detector falls into."""

from __future__ import annotations

import asyncio
import collections
import functools
import itertools
import logging
import os
import re
import threading
import weakref
from typing import Any

import numpy as np

_counter = itertools.count()


def pure() -> None:
    """Computes and returns: nothing is kept."""
    sum(range(50))


class Result:
    def __init__(self, k: int) -> None:
        self.k = k


@functools.lru_cache(maxsize=128)
def _lookup(k: int) -> Result:
    return Result(k)


def bounded_lru() -> None:
    """A bounded lru_cache: fills to maxsize, then evicts."""
    _lookup(next(_counter) % 500)


class Pool:
    def __init__(self, size: int) -> None:
        self.size = size
        self.free: list[bytearray] = []

    def acquire(self) -> bytearray:
        return self.free.pop() if self.free else bytearray(256)

    def release(self, item: bytearray) -> None:
        if len(self.free) < self.size:
            self.free.append(item)


_POOL = Pool(8)


def object_pool() -> None:
    """An object pool with a maximum size."""
    items = [_POOL.acquire() for _ in range(4)]
    for item in items:
        _POOL.release(item)


def regex_cache() -> None:
    """re's pattern cache fills with 40 patterns, then stays."""
    re.match(f"item-{next(_counter) % 40}-\\d+", "item-3-12")


_CONFIG: dict[str, Any] | None = None


def lazy_init() -> None:
    """One-time lazy initialisation on the first call."""
    global _CONFIG
    if _CONFIG is None:
        _CONFIG = {f"key{i}": [i] * 10 for i in range(2000)}


_step_calls = itertools.count()
_STEP: list[bytes] = []


def one_time_step() -> None:
    """Allocates a block once, on the 3000th call (mid-run for fast operations)."""
    if next(_step_calls) == 3000:
        _STEP.append(b"s" * 200_000)
        _STEP.extend(bytes(100) for _ in range(500))


class Item:
    def __init__(self) -> None:
        self.data = [0] * 8


_BUFFER: list[Item] = []


def sawtooth() -> None:
    """A buffer that is cleared whenever it reaches 100 items."""
    _BUFFER.append(Item())
    if len(_BUFFER) >= 100:
        _BUFFER.clear()


class Cyclic:
    def __init__(self) -> None:
        self.me = self
        self.data = [1, 2, 3]


def garbage_cycles() -> None:
    """Reference cycles that become garbage at once (the collector frees them)."""
    a, b = Cyclic(), Cyclic()
    a.other, b.other = b, a  # type: ignore[attr-defined]


_CYCLIC_BUFFER: list[Cyclic] = []


def sawtooth_of_cycles() -> None:
    """A buffer of self-referencing objects, cleared every 100 calls (garbage cycles)."""
    _CYCLIC_BUFFER.append(Cyclic())
    if len(_CYCLIC_BUFFER) >= 100:
        _CYCLIC_BUFFER.clear()


class Entry:
    def __init__(self, n: int) -> None:
        self.n = n


_WEAK: weakref.WeakValueDictionary[int, Entry] = weakref.WeakValueDictionary()


def weak_cache() -> None:
    """A WeakValueDictionary: entries vanish with their values."""
    entry = Entry(next(_counter))
    _WEAK[entry.n] = entry


_RING: collections.deque[Entry] = collections.deque(maxlen=200)


def ring_buffer() -> None:
    """A deque with maxlen: bounded by construction."""
    _RING.append(Entry(0))


def fragmentation() -> None:
    """Mixed small and large temporaries that move RSS but keep nothing."""
    blocks = [bytes(600) for _ in range(200)]
    del blocks[::2]
    big = bytearray(300_000)
    del blocks, big


def error_path(fail: bool = True) -> None:
    """Raises ValueError on purpose (measured with expected_exceptions)."""
    scratch = [0] * 100
    if fail:
        raise ValueError(f"invalid input of {len(scratch)} items")


async def async_pure() -> None:
    """A coroutine that awaits and keeps nothing."""
    await asyncio.sleep(0)


def numpy_temporaries() -> None:
    """numpy temporaries that are freed."""
    np.ones(2000).sum()


_LOG = logging.getLogger("corpus.fixed")


def same_logger() -> None:
    """The same logger every call."""
    logging.getLogger("corpus.fixed").debug("request handled")


def fd_open_close() -> None:
    """A file opened and closed per call: the descriptor count stays flat."""
    with open(os.devnull, "rb") as handle:
        handle.read(1)


def thread_start_join() -> None:
    """A worker thread per call, joined before returning."""
    worker = threading.Thread(target=lambda: None)
    worker.start()
    worker.join()


# --- millisecond-scale operations: few calls fit in the time budget -------------------


def _busy(ms: float) -> None:
    """About ``ms`` milliseconds of work: half CPU, half waiting (like a request handler)."""
    import time

    end = time.perf_counter() + ms / 2000.0
    while time.perf_counter() < end:
        pass
    time.sleep(ms / 2000.0)


_SLOW_CACHE: dict[int, bytes] = {}


def slow_plateau() -> None:
    """A 2 ms call that caches one of 150 results: fills for 150 calls, then stays."""
    _busy(2.0)
    key = next(_counter) % 150
    if key not in _SLOW_CACHE:
        _SLOW_CACHE[key] = bytes(1024) + str(key).encode()


_SLOW_BUFFER: list[bytes] = []


def slow_sawtooth() -> None:
    """A 2 ms call that buffers 1 KB and flushes every 25 calls."""
    _busy(2.0)
    _SLOW_BUFFER.append(bytes(1024))
    if len(_SLOW_BUFFER) >= 25:
        _SLOW_BUFFER.clear()


_DRAWS = np.random.default_rng(20261204).integers(0, 300, 1_000_000)
_DRAW = itertools.count()


def slow_warmup() -> None:
    """A 1 ms call compiling one of 300 patterns drawn at random: Python's regex cache warms
    up ever more slowly (each new pattern is rarer), then stops growing."""
    _busy(1.0)
    re.compile(rf"item-{int(_DRAWS[next(_DRAW) % _DRAWS.size])}-(\d+)")
