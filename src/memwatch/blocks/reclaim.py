"""A registry of objects that can give memory back under pressure.

Caches and pools register themselves here; the guard's recovery ladder calls
:func:`shrink_all` (give back a fraction) and then :func:`clear_all` (give back
everything) without knowing what the objects are.

A reclaimable object has two methods::

    shrink(fraction: float) -> int   # drop about ``fraction`` (0..1] of its content,
                                     # return how many bytes (or items) it freed
    clear() -> int | None            # drop everything; return bytes/items freed if known

Objects are held weakly: registering a cache never keeps it alive, and a cache
that has been garbage-collected silently leaves the registry. All functions are
thread-safe. The callbacks run *outside* the registry lock, so an object may
register or unregister others from inside ``shrink``/``clear``. An object whose
``shrink``/``clear`` raises is skipped (the error is logged at WARNING) so one bad
citizen cannot stop the ladder.
"""

from __future__ import annotations

import functools
import logging
import threading
import weakref
from collections import deque
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "Reclaimable",
    "clear_all",
    "register",
    "registered",
    "shrink_all",
    "unregister",
]

_log = logging.getLogger(__name__)


@runtime_checkable
class Reclaimable(Protocol):
    """Something that can give memory back: see the module docstring."""

    def shrink(self, fraction: float) -> int: ...

    def clear(self) -> Any: ...


_lock = threading.Lock()
# id(obj) -> weak reference; the weakref callback removes dead entries.
_refs: dict[int, weakref.ref[Any]] = {}


# Filled by the weakref callbacks, emptied under the lock. A callback must never take
# the lock: the cyclic GC runs it in whichever thread allocates, possibly one that holds
# the lock already (a non-reentrant lock would deadlock there).
_dead: deque[tuple[int, weakref.ref[Any]]] = deque()


def _forget(key: int, ref: weakref.ref[Any]) -> None:
    _dead.append((key, ref))  # atomic; no lock


def _purge() -> None:
    """Under the lock: drop the entries whose object died."""
    while _dead:
        key, ref = _dead.popleft()
        if _refs.get(key) is ref:
            del _refs[key]


def register(obj: Any) -> None:
    """Add ``obj`` (weakly held) to the registry; registering twice is a no-op.

    Raises ``TypeError`` when ``obj`` lacks callable ``shrink`` and ``clear``
    methods or cannot be weakly referenced (give the class ``__weakref__``).
    """
    if not (callable(getattr(obj, "shrink", None)) and callable(getattr(obj, "clear", None))):
        raise TypeError(
            f"{type(obj).__name__} cannot be registered: it needs shrink(fraction) and clear() methods"
        )
    key = id(obj)
    try:
        ref = weakref.ref(obj, functools.partial(_forget, key))
    except TypeError:
        raise TypeError(
            f"{type(obj).__name__} cannot be registered: it cannot be weakly "
            "referenced (add __weakref__ to its __slots__)"
        ) from None
    with _lock:
        _purge()
        old = _refs.get(key)
        if old is not None and old() is obj:
            return
        _refs[key] = ref


def unregister(obj: Any) -> None:
    """Remove ``obj`` from the registry; a no-op when it is not registered."""
    key = id(obj)
    with _lock:
        _purge()
        ref = _refs.get(key)
        if ref is not None and ref() is obj:
            del _refs[key]


def registered() -> list[Any]:
    """The live registered objects, in registration order (strong references)."""
    with _lock:
        _purge()
        refs = list(_refs.values())
    return [obj for obj in (r() for r in refs) if obj is not None]


def _as_count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return max(value, 0)


def shrink_all(fraction: float) -> int:
    """Ask every registered object to drop ``fraction`` (0 < fraction <= 1) of its content.

    Returns the sum of what the objects report freed (bytes or items, as each
    object counts them: a rough figure for logs, not an exact byte count).
    """
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    total = 0
    for obj in registered():
        try:
            total += _as_count(obj.shrink(float(fraction)))
        except Exception:
            _log.warning("reclaim: %s.shrink(%s) failed", type(obj).__name__, fraction, exc_info=True)
    return total


def clear_all() -> int:
    """Ask every registered object to drop everything; returns the sum they report freed."""
    total = 0
    for obj in registered():
        try:
            total += _as_count(obj.clear())
        except Exception:
            _log.warning("reclaim: %s.clear() failed", type(obj).__name__, exc_info=True)
    return total
