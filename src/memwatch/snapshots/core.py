"""Snapshots of live memory, tracemalloc- and objgraph-style.

::

    from memwatch.snapshots import take_snapshot, compare_snapshots, type_growth
    a = take_snapshot("before")
    load()
    b = take_snapshot("after")
    for site in compare_snapshots(a, b, limit=5): print(site.where, site.size_diff)
    type_growth()   # types whose live count grew since the previous call

``take_snapshot`` starts tracemalloc when it is off (with ``frames`` frames, default 1;
ask for more to group by traceback) and :func:`stop` stops it again; only allocations
made while tracemalloc runs are seen. ``most_common_types``/``type_growth`` count the
objects the garbage collector tracks (containers and instances, not ints or strings).
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from memwatch.errors import UsageError
from memwatch.model.snapshots import AllocationSite, SiteGrowth, SnapshotPoint, TypeCount
from memwatch.probes.process import rss

__all__ = [
    "MemorySnapshot",
    "TypeTracker",
    "compare_snapshots",
    "history",
    "most_common_types",
    "stop",
    "take_snapshot",
    "top_allocations",
    "type_growth",
]

By = Literal["line", "file", "traceback"]
_KEYS = {"line": "lineno", "file": "filename", "traceback": "traceback"}
_IGNORED = (
    tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
    tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
    tracemalloc.Filter(False, tracemalloc.__file__),
    tracemalloc.Filter(False, "<unknown>"),
)
_MAX_HISTORY = 10_000
_history: list[SnapshotPoint] = []
_origin: float | None = None
_started_here = False


@dataclass(frozen=True)
class MemorySnapshot:
    """A labelled tracemalloc snapshot with the traced total and RSS at that moment."""

    label: str
    t: float
    traced: int
    rss: int
    raw: tracemalloc.Snapshot = field(repr=False)

    @property
    def point(self) -> SnapshotPoint:
        return SnapshotPoint(label=self.label, t=self.t, traced=self.traced, rss=self.rss)


def take_snapshot(label: str = "", *, frames: int | None = None) -> MemorySnapshot:
    """Snapshot the live traced blocks now (starting tracemalloc when it is off)."""
    global _origin, _started_here
    if frames is not None and (not isinstance(frames, int) or frames < 1):
        raise UsageError(f"frames must be a positive integer, got {frames!r}")
    if not tracemalloc.is_tracing():
        tracemalloc.start(frames or 1)
        _started_here = True
    now = time.monotonic()
    if _origin is None:
        _origin = now
    raw = tracemalloc.take_snapshot().filter_traces(_IGNORED)
    snap = MemorySnapshot(
        label=label or f"snapshot {len(_history) + 1}",
        t=now - _origin,
        traced=tracemalloc.get_traced_memory()[0],
        rss=rss(),
        raw=raw,
    )
    _history.append(snap.point)
    del _history[:-_MAX_HISTORY]
    return snap


def history() -> list[SnapshotPoint]:
    """Every snapshot taken so far (label, time, traced bytes, RSS), oldest first."""
    return list(_history)


def stop() -> None:
    """Stop tracemalloc if :func:`take_snapshot` started it; forget the history."""
    global _started_here, _origin
    if _started_here and tracemalloc.is_tracing():
        tracemalloc.stop()
    _started_here = False
    _origin = None
    _history.clear()


def _check(by: str, limit: int | None) -> str:
    if by not in _KEYS:
        raise UsageError(f"by={by!r}: use 'line', 'file' or 'traceback'")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise UsageError(f"limit must be a positive integer or None, got {limit!r}")
    return _KEYS[by]


def _where(traceback: tracemalloc.Traceback, by: str) -> tuple[str, tuple[str, ...]]:
    frame = traceback[0]
    if by == "filename":
        return frame.filename, ()
    frames = tuple(f"{f.filename}:{f.lineno}" for f in traceback)
    if by == "lineno":
        return f"{frame.filename}:{frame.lineno}", ()
    return " <- ".join(frames), frames


def top_allocations(
    snapshot: MemorySnapshot, by: By = "line", limit: int | None = 10
) -> list[AllocationSite]:
    """The sites holding the most live memory in ``snapshot``, largest first."""
    key = _check(by, limit)
    sites = []
    for stat in snapshot.raw.statistics(key)[:limit]:
        where, frames = _where(stat.traceback, key)
        sites.append(AllocationSite(where=where, size=stat.size, count=stat.count, traceback=frames))
    return sites


def compare_snapshots(
    a: MemorySnapshot, b: MemorySnapshot, by: By = "line", limit: int | None = 10
) -> list[SiteGrowth]:
    """Per-site change from ``a`` to ``b``, the largest growth first (shrinking sites last)."""
    key = _check(by, limit)
    diffs = b.raw.compare_to(a.raw, key)
    diffs.sort(key=lambda d: (d.size_diff, d.count_diff), reverse=True)
    out = []
    for d in diffs[:limit]:
        where, frames = _where(d.traceback, key)
        out.append(
            SiteGrowth(
                where=where,
                size=d.size,
                size_diff=d.size_diff,
                count=d.count,
                count_diff=d.count_diff,
                traceback=frames,
            )
        )
    return out


def _type_counts() -> Counter[str]:
    counts: Counter[str] = Counter()
    for obj in gc.get_objects():
        counts[type(obj).__name__] += 1
    return counts


def most_common_types(limit: int | None = 10) -> list[TypeCount]:
    """The types with the most live (GC-tracked) objects, like objgraph.most_common_types."""
    _check("line", limit)
    return [TypeCount(name=name, count=count) for name, count in _type_counts().most_common(limit)]


class TypeTracker:
    """Remembers object counts by type; :meth:`growth` reports the types that grew since the
    previous call (objgraph's show_growth; the first call compares with nothing)."""

    def __init__(self) -> None:
        self._last: Counter[str] = Counter()

    def prime(self) -> None:
        """Count now without reporting, so the next :meth:`growth` starts from here."""
        gc.collect()
        self._last = _type_counts()

    def growth(self, limit: int | None = 10) -> list[TypeCount]:
        _check("line", limit)
        gc.collect()
        now = _type_counts()
        grown = [
            TypeCount(name=name, count=count, growth=count - self._last.get(name, 0))
            for name, count in now.items()
            if count > self._last.get(name, 0)
        ]
        self._last = now
        grown.sort(key=lambda t: (t.growth, t.count), reverse=True)
        return grown[:limit]


_tracker = TypeTracker()


def type_growth(limit: int | None = 10) -> list[TypeCount]:
    """Types whose live object count grew since the previous call (after a full collection)."""
    return _tracker.growth(limit)
