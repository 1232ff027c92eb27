"""The named signals a sampler can record: :func:`signal` returns a
:class:`~memwatch.probes.base.Signal` by name; :data:`CHEAP` is the default set (RSS,
allocated blocks, native heap). Importing this loads ctypes and tracemalloc's built-in C
half (not the ``tracemalloc`` module, which imports pickle and linecache); the package
itself (``memwatch.probes``) loads it only when one of these names is asked for.
"""

from __future__ import annotations

import _tracemalloc as tracemalloc  # the C module: `tracemalloc` imports pickle, linecache, fnmatch
import gc
from collections.abc import Callable
from types import ModuleType

from memwatch.errors import ConfigError
from memwatch.probes import native, statm
from memwatch.probes import python as pyprobe
from memwatch.probes.base import Signal, Unit

__all__ = ["CHEAP", "SIGNALS", "signal", "signal_names"]

CHEAP: tuple[str, ...] = ("rss", "py_blocks", "native_heap")


def _tracemalloc_current() -> float:
    return float(tracemalloc.get_traced_memory()[0]) if tracemalloc.is_tracing() else float("nan")


def _process() -> ModuleType:
    """:mod:`memwatch.probes.process`, loaded by the signals that need it (not rss, vms)."""
    from memwatch.probes import process

    return process


def _gc_count(generation: int) -> Callable[[], float]:
    return lambda: float(gc.get_count()[generation])


_DEFS: dict[str, tuple[Unit, Callable[[], float], Callable[[], str], str]] = {
    "rss": ("bytes", statm.rss, lambda: "", "resident set size of the process"),
    "vms": ("bytes", statm.vms, lambda: "", "virtual memory size"),
    "peak_rss": (
        "bytes",
        lambda: _process().peak_rss().require(),
        lambda: "",
        "VmHWM (peak RSS since start or reset)",
    ),
    "py_blocks": (
        "count",
        pyprobe.allocated_blocks,
        lambda: "",
        "memory blocks held by the interpreter (sys.getallocatedblocks)",
    ),
    "native_heap": (
        "bytes",
        native.native_heap_bytes,
        native.native_reason,
        "in-use bytes of the glibc heap (mallinfo2)",
    ),
    "py_heap": (
        "bytes",
        _tracemalloc_current,
        lambda: "" if tracemalloc.is_tracing() else "tracemalloc is not tracing",
        "bytes traced by tracemalloc",
    ),
    "fds": ("count", lambda: float(_process().open_fds()), lambda: "", "open file descriptors"),
    "threads": ("count", lambda: float(_process().thread_count()), lambda: "", "OS threads"),
    "gc_gen0": ("count", _gc_count(0), lambda: "", "gc generation 0 count"),
    "gc_gen1": ("count", _gc_count(1), lambda: "", "gc generation 1 count"),
    "gc_gen2": ("count", _gc_count(2), lambda: "", "gc generation 2 count"),
}

SIGNALS: tuple[str, ...] = tuple(_DEFS)


def signal_names() -> tuple[str, ...]:
    return SIGNALS


def signal(name: str) -> Signal:
    """The named signal of this process; ConfigError lists the known names."""
    try:
        unit, read, reason, description = _DEFS[name]
    except KeyError:
        raise ConfigError(f"unknown probe {name!r}; known probes: {', '.join(SIGNALS)}") from None
    return Signal(name=name, unit=unit, read=read, reason=reason(), description=description)
