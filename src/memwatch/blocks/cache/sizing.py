"""A bounded, documented estimate of how many bytes a value keeps alive.

``estimate_size(value)`` is what :class:`~memwatch.blocks.cache.AdaptiveCache` charges a
value against its memory bound. What it assumes:

- **Flat objects** (bytes, str, int, float, bytearray, ...): ``sys.getsizeof``,
  which for these includes the payload.
- **Buffers** with an integer ``nbytes`` (numpy arrays, memoryview):
  ``max(sys.getsizeof(obj), obj.nbytes)``, so a view is charged the bytes it keeps
  alive, not only its header. numpy is never imported here.
- **Containers** (list, tuple, set, frozenset, dict, deque and objects' ``__dict__``
  or ``__slots__``): their own ``sys.getsizeof`` plus their contents, recursively,
  to ``max_depth`` levels. A container with more than ``max_items`` elements is
  charged for the first ``max_items`` and the average of those times the rest
  (an extrapolation, stated as such). Deeper than ``max_depth`` an object is
  charged its own ``sys.getsizeof`` only.
- An object reached twice inside one value is counted once. Objects shared
  *between* values are counted for each value that holds them, so the sum over a
  cache over-estimates rather than under-estimates. Classes, functions and modules
  are not owned by a value and count 0.
- Native memory an object holds without reporting it through ``__sizeof__`` or
  ``nbytes`` (a C extension's private buffers) is invisible: pass an explicit
  ``size=`` (or a ``sizeof=`` function to the cache) for such values.

A value whose ``__sizeof__`` raises or returns something other than a
non-negative integer raises :class:`SizeEstimateError`.
"""

from __future__ import annotations

import sys
import types
from collections import deque
from collections.abc import Iterable
from typing import Any

from memwatch.errors import UsageError

__all__ = ["FLAT_EXACT", "SizeEstimateError", "estimate_size"]

_FLAT = (bytes, str, int, float, complex, bool, bytearray, type(None), range)
_NOT_OWNED = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)


class SizeEstimateError(UsageError, TypeError):
    """The size of a value cannot be estimated (its ``__sizeof__`` is broken)."""


def _own_size(obj: Any) -> int:
    try:
        size = sys.getsizeof(obj)
    except Exception as exc:  # __sizeof__ raised, or returned a non-integer / negative
        raise SizeEstimateError(
            f"cannot estimate the size of a {type(obj).__name__} value ({exc}); "
            "give its size explicitly (put(..., size=N)) or pass sizeof= to the cache"
        ) from None
    nbytes = getattr(obj, "nbytes", None)
    if isinstance(nbytes, int) and not isinstance(nbytes, bool) and nbytes > size:
        return nbytes
    return size


def _children(obj: Any) -> tuple[Iterable[Any], int] | None:
    """The objects ``obj`` holds and how many there are, or None for a leaf."""
    if isinstance(obj, dict):
        return (x for kv in obj.items() for x in kv), 2 * len(obj)
    if isinstance(obj, list | tuple | set | frozenset | deque):
        return iter(obj), len(obj)
    held: list[Any] = []
    attrs = getattr(obj, "__dict__", None)
    if isinstance(attrs, dict):
        held.append(attrs)
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name in ("__dict__", "__weakref__"):
                continue
            try:
                held.append(getattr(obj, name))
            except AttributeError:
                continue
    return (iter(held), len(held)) if held else None


# Exact types that are flat (no children, no ``nbytes``): one sys.getsizeof, no walk.
FLAT_EXACT = frozenset({bytes, str, int, float, complex, bool, bytearray, type(None), range})


def estimate_size(value: Any, *, max_depth: int = 4, max_items: int = 1000) -> int:
    """Estimated bytes ``value`` keeps alive; see the module docstring for the rules."""
    if max_depth < 0 or max_items < 1:
        raise ValueError("max_depth must be >= 0 and max_items >= 1")
    if type(value) in FLAT_EXACT:
        return sys.getsizeof(value)
    seen: set[int] = set()
    try:
        return _estimate(value, max_depth, max_items, seen)
    except SizeEstimateError:
        raise
    except Exception as exc:  # a property that raises, a container changed while it was walked
        raise SizeEstimateError(
            f"cannot estimate the size of a {type(value).__name__} value ({type(exc).__name__}: "
            f"{exc}); give its size explicitly (put(..., size=N)) or pass sizeof= to the cache"
        ) from None


def _estimate(obj: Any, depth: int, max_items: int, seen: set[int]) -> int:
    key = id(obj)
    if key in seen or isinstance(obj, _NOT_OWNED):
        return 0
    seen.add(key)
    size = _own_size(obj)
    if depth == 0 or isinstance(obj, _FLAT):
        return size
    found = _children(obj)
    if found is None:
        return size
    children, count = found
    counted = 0
    child_total = 0
    for child in children:
        if counted == max_items:
            break
        child_total += _estimate(child, depth - 1, max_items, seen)
        counted += 1
    if counted and count > counted:
        child_total += child_total * (count - counted) // counted  # extrapolated, see docstring
    return size + child_total
