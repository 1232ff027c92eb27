"""Python-level signals: allocated blocks, tracemalloc, garbage-collector counts.

These are exact but blind to native memory (C extensions, ctypes, numpy buffers
are native): pair them with :mod:`memwatch.probes.native`.
"""

from __future__ import annotations

import _tracemalloc as tracemalloc  # the C module: `tracemalloc` imports pickle, linecache, fnmatch
import gc
import sys

from memwatch.probes.base import Reading, unavailable

__all__ = [
    "allocated_blocks",
    "gc_counts",
    "gc_object_count",
    "tracemalloc_current",
    "tracemalloc_peak",
]


def allocated_blocks() -> int:
    """Memory blocks the interpreter currently holds (``sys.getallocatedblocks``)."""
    return sys.getallocatedblocks()


def tracemalloc_current() -> Reading:
    """Bytes traced by tracemalloc now; unavailable unless tracing is on."""
    if not tracemalloc.is_tracing():
        return unavailable("tracemalloc", "tracemalloc is not tracing")
    return Reading(float(tracemalloc.get_traced_memory()[0]), "bytes", "tracemalloc")


def tracemalloc_peak() -> Reading:
    """Peak bytes traced since tracing started or the last ``reset_peak``."""
    if not tracemalloc.is_tracing():
        return unavailable("tracemalloc", "tracemalloc is not tracing")
    return Reading(float(tracemalloc.get_traced_memory()[1]), "bytes", "tracemalloc")


def gc_counts() -> tuple[int, int, int]:
    """Allocations minus deallocations per generation since its last collection."""
    c0, c1, c2 = gc.get_count()
    return c0, c1, c2


def gc_object_count() -> int:
    """Objects tracked by the collector (all generations). Costs O(objects)."""
    return len(gc.get_objects())
