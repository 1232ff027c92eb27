"""How much of a workload's peak memory comes back after a full collection.

Signals: RSS (peak from VmHWM, reset before the workload), Python heap as allocated
blocks (and tracemalloc bytes when it is tracing), and the native heap from glibc
``mallinfo2``. Blocks and the native heap keep no peak, so their "peak" is the
reading at the end of the workload, while its return value is still held: a
workload that returns what it built shows that memory at its peak.

When RSS stays high after the collection while both heaps gave their growth back,
the freed memory sits in the allocator, not in objects; ``malloc_trim(0)`` returns
it to the OS, and the result offers it as the remedy with the measured effect.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable

from memwatch.errors import OperationError, user_traceback
from memwatch.model.gc import ReclaimSignal, Reclamation
from memwatch.probes import native, process
from memwatch.probes import python as pyprobe
from memwatch.units import format_size

__all__ = ["measure_reclamation"]

MIN_RSS_LEFT = 8 * 2**20
HEAP_SLACK = 0.10


def _read() -> dict[str, float]:
    values = {"rss": float(process.rss()), "py_blocks": float(pyprobe.allocated_blocks())}
    if not native.native_reason():
        values["native_heap"] = float(native.native_heap_bytes())
    if tracemalloc.is_tracing():
        values["py_heap"] = float(tracemalloc.get_traced_memory()[0])
    return values


def _returned(before: float, peak: float, after: float) -> float:
    growth = peak - before
    return (peak - after) / growth if growth > 0 else float("nan")


def _gave_back(sig: ReclaimSignal, slack_abs: float) -> bool:
    return sig.after - sig.before <= HEAP_SLACK * max(0.0, sig.peak - sig.before) + slack_abs


def measure_reclamation(
    workload: Callable[[], object], *, trim: bool = True, component: str = "workload"
) -> Reclamation:
    """Run ``workload()`` once, collect fully, and report what came back per signal.

    ``trim`` then calls ``malloc_trim(0)`` (glibc only) and records RSS after it.
    An exception from the workload raises OperationError.
    """
    gc.collect()
    before = _read()
    hwm = process.reset_peak_rss()
    if tracemalloc.is_tracing():
        tracemalloc.reset_peak()
    try:
        result = workload()
    except Exception as exc:
        raise OperationError(
            f"{component}: the workload raised {type(exc).__name__}: {exc}",
            original=exc,
            traceback_text=user_traceback(exc),
        ) from exc
    end = _read()
    peaks = dict(end)
    sources = dict.fromkeys(end, "end of workload")
    if hwm.available:
        peaks["rss"] = max(end["rss"], process.peak_rss().value or 0.0)
        sources["rss"] = "VmHWM"
    if "py_heap" in end:
        peaks["py_heap"] = float(tracemalloc.get_traced_memory()[1])
        sources["py_heap"] = "tracemalloc peak"
    del result
    gc.collect()
    after = _read()
    units = {"rss": "bytes", "py_blocks": "count", "native_heap": "bytes", "py_heap": "bytes"}
    signals = tuple(
        ReclaimSignal(
            name=name,
            unit=units[name],
            before=before[name],
            peak=peaks[name],
            peak_source=sources[name],
            after=after[name],
            returned=_returned(before[name], peaks[name], after[name]),
        )
        for name in ("rss", "py_blocks", "native_heap", "py_heap")
        if name in after
    )
    unavailable = {}
    if native.native_reason():
        unavailable["native_heap"] = native.native_reason()
    if not hwm.available:
        unavailable["rss_peak"] = hwm.reason
    rss_after_trim = trim_released = None
    if trim and native.malloc_trim(0) is not None:
        rss_after_trim = float(process.rss())
        trim_released = after["rss"] - rss_after_trim
    elif trim:
        unavailable["malloc_trim"] = native.native_reason() or "malloc_trim is not available"
    return Reclamation(
        signals=signals,
        rss_after_trim=rss_after_trim,
        trim_released=trim_released,
        remedy=_remedy({sig.name: sig for sig in signals}, trim_released),
        unavailable=unavailable,
    )


def _remedy(signals: dict[str, ReclaimSignal], trim_released: float | None) -> str:
    """The malloc_trim remedy, when RSS stayed high while both heaps gave their growth back."""
    if "native_heap" not in signals:
        return ""
    rss = signals["rss"]
    left = rss.after - rss.before
    if left < max(MIN_RSS_LEFT, 0.25 * max(0.0, rss.peak - rss.before)):
        return ""
    blocks, heap = signals["py_blocks"], signals["native_heap"]
    if not (_gave_back(blocks, 1000.0) and _gave_back(heap, float(2**20))):
        return ""
    text = (
        f"RSS stayed {format_size(left)} above its start after a full collection while the Python "
        f"heap ({blocks.after - blocks.before:+,.0f} blocks) and the native heap "
        f"({format_size(heap.after - heap.before, signed=True)}) gave their growth back: the freed "
        "memory is held by the allocator, not by objects. Call malloc_trim(0) "
        "(memwatch.probes.native.malloc_trim) after such bursts"
    )
    if trim_released is not None:
        text += f"; here it returned {format_size(trim_released)} of RSS"
    return text
