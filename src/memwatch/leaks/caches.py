"""Reset the caches a Python process fills on its own, before measuring (optional).

CPython's own reference-leak hunter (``regrtest -R``) clears interpreter caches
between runs so that a cache filling up is not mistaken for a leak. memwatch does
the same once, before warm-up (warm-up then refills what the operation needs):

- ``re``: the compiled-pattern cache (``re.purge()``);
- ``functools``: every ``lru_cache``/``cache`` defined at module level in a loaded
  *standard-library* module (user caches are left alone: they are what we test);
- ``typing``: the caches of generic aliases (``typing._cleanups``);
- ``abc``: the subclass caches of the ABCs in ``collections.abc`` and ``numbers``;
- ``linecache``: source lines read for tracebacks;
- ``struct``: the format cache; ``sys._clear_type_cache()``: the method cache.

Turn it off with ``detect_leaks(..., reset_caches=False)``.
"""

from __future__ import annotations

import abc
import functools
import linecache
import re
import struct
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["reset_caches"]


def _stdlib_lru_caches() -> int:
    cleared = 0
    stdlib = sys.stdlib_module_names
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".", 1)[0] not in stdlib:
            continue
        try:
            members = list(vars(module).values())
        except TypeError:
            continue
        for value in members:
            if isinstance(value, functools._lru_cache_wrapper):
                value.cache_clear()
                cleared += 1
    return cleared


def _abc_caches() -> int:
    import collections.abc
    import numbers

    cleared = 0
    for module in (collections.abc, numbers):
        for name in getattr(module, "__all__", ()):
            cls = getattr(module, name, None)
            if isinstance(cls, abc.ABCMeta):
                cls._abc_caches_clear()  # type: ignore[attr-defined]
                cleared += 1
    return cleared


def _typing_caches() -> int:
    typing_module = sys.modules.get("typing")
    cleanups: list[Callable[[], Any]] = list(getattr(typing_module, "_cleanups", []))
    for cleanup in cleanups:
        cleanup()
    return len(cleanups)


def reset_caches() -> list[str]:
    """Clear the caches above; returns notes (one per cache that could not be cleared)."""
    notes: list[str] = []
    steps: tuple[tuple[str, Callable[[], Any]], ...] = (
        ("re", re.purge),
        ("functools (stdlib)", _stdlib_lru_caches),
        ("typing", _typing_caches),
        ("abc", _abc_caches),
        ("linecache", linecache.clearcache),
        ("struct", struct._clearcache),  # type: ignore[attr-defined]
        ("type cache", sys._clear_type_cache),
    )
    for name, step in steps:
        try:
            step()
        except Exception as exc:  # a cache we cannot clear must not stop the measurement
            notes.append(f"could not reset the {name} cache: {type(exc).__name__}: {exc}")
    return notes
