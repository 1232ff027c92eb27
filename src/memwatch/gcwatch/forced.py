"""Tell forced collections (``gc.collect()``) from automatic ones.

``gc.callbacks`` does not say why a collection ran. While at least one monitor is
running, ``gc.collect`` is replaced by a thin wrapper that records the
``perf_counter_ns`` interval of each call; a collection that starts inside such an
interval was forced (the collector runs one collection at a time, so nothing else
starts inside it). This costs the monitor's callback nothing. The wrapper is
removed when the last monitor stops (unless someone replaced ``gc.collect`` after
us, which we then leave alone).

Limits, stated plainly: a reference to the original taken before the monitor
started (``from gc import collect``) bypasses the wrapper. On CPython 3.11 the
trigger rule closes that gap: an automatic collection starts only when the young
count exceeds threshold0, so a start at or below threshold0 is forced. Any
collection while automatic collection is disabled is forced.
"""

from __future__ import annotations

import functools
import gc
import sys
import threading
import time
from collections.abc import Callable

__all__ = ["METHOD", "TRIGGER_RULE", "install", "intervals_between", "uninstall"]

TRIGGER_RULE = sys.version_info[:2] == (3, 11) and sys.implementation.name == "cpython"
METHOD = "gc.collect wrapper + 3.11 trigger rule" if TRIGGER_RULE else "gc.collect wrapper"

_lock = threading.Lock()
_users = 0
_original: Callable[..., int] | None = None
_wrapper: Callable[..., int] | None = None
_intervals: list[tuple[int, int]] = []


def _make_wrapper(original: Callable[..., int]) -> Callable[..., int]:
    clock = time.perf_counter_ns
    record = _intervals.append

    @functools.wraps(original)
    def collect(generation: int = 2) -> int:
        if not _users:  # left in someone else's wrapper chain after the last monitor stopped
            return original(generation)
        t0 = clock()
        try:
            return original(generation)
        finally:
            record((t0, clock()))

    return collect


def install() -> None:
    """Count one more user of the wrapper; install it for the first."""
    global _users, _original, _wrapper
    with _lock:
        _users += 1
        if _users == 1:
            _original = gc.collect
            _wrapper = _make_wrapper(_original)
            gc.collect = _wrapper


def intervals_between(start_ns: int, stop_ns: int) -> list[tuple[int, int]]:
    """The recorded ``gc.collect()`` calls that began within [start_ns, stop_ns]."""
    return [iv for iv in list(_intervals) if start_ns <= iv[0] <= stop_ns]


def uninstall() -> None:
    """Count one user less; put the original back (and forget the intervals) after the last."""
    global _users, _original, _wrapper
    with _lock:
        if _users == 0:
            return
        _users -= 1
        if _users == 0:
            if gc.collect is _wrapper and _original is not None:
                gc.collect = _original
            _original = _wrapper = None
            _intervals.clear()
