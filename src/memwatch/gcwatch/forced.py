"""Tell forced collections (``gc.collect()``) from automatic ones.

``gc.callbacks`` does not say why a collection ran. While at least one monitor is
running, ``gc.collect`` is replaced by a thin wrapper that marks the calling thread;
the callback reads the mark. The wrapper is removed when the last monitor stops
(unless someone replaced ``gc.collect`` after us, which we then leave alone).

Limits, stated plainly: a reference to the original taken before the monitor
started (``from gc import collect``) bypasses the wrapper. On Python 3.11 the
trigger rule closes that gap: an automatic collection starts only when the young
count exceeds threshold0, so a start at or below threshold0 is forced. Any
collection while automatic collection is disabled is forced.
"""

from __future__ import annotations

import functools
import gc
import sys
import threading
from collections.abc import Callable

__all__ = ["FORCED_THREADS", "METHOD", "TRIGGER_RULE", "install", "uninstall"]

FORCED_THREADS: set[int] = set()
TRIGGER_RULE = sys.version_info[:2] == (3, 11) and sys.implementation.name == "cpython"
METHOD = "gc.collect wrapper + 3.11 trigger rule" if TRIGGER_RULE else "gc.collect wrapper"

_lock = threading.Lock()
_users = 0
_original: Callable[..., int] | None = None
_wrapper: Callable[..., int] | None = None


def _make_wrapper(original: Callable[..., int]) -> Callable[..., int]:
    @functools.wraps(original)
    def collect(generation: int = 2) -> int:
        tid = threading.get_ident()
        if tid in FORCED_THREADS:
            return original(generation)
        FORCED_THREADS.add(tid)
        try:
            return original(generation)
        finally:
            FORCED_THREADS.discard(tid)

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


def uninstall() -> None:
    """Count one user less; put the original back after the last."""
    global _users, _original, _wrapper
    with _lock:
        if _users == 0:
            return
        _users -= 1
        if _users == 0:
            if gc.collect is _wrapper and _original is not None:
                gc.collect = _original
            _original = _wrapper = None
