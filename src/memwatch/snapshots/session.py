"""A set of snapshots with its own history and type counts: the ``memory_snapshots`` fixture.

::

    def test_cache_stays_small(memory_snapshots):
        before = memory_snapshots.take("before")
        fill_cache()
        after = memory_snapshots.take("after")
        assert memory_snapshots.compare(before, after)[0].size_diff < 5 * 2**20
        assert not [t for t in memory_snapshots.type_growth() if t.name == "Session"]
"""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

from memwatch.model.snapshots import AllocationSite, SiteGrowth, SnapshotPoint, TypeCount
from memwatch.snapshots import core
from memwatch.snapshots.plot import plot_snapshots

__all__ = ["SnapshotSession"]


class SnapshotSession:
    """Snapshots taken through this object; tracemalloc is stopped on :meth:`close` if this
    session started it. Object counts are primed when the session opens."""

    def __init__(self, frames: int = 1) -> None:
        self.frames = frames
        self._started = not tracemalloc.is_tracing()
        if self._started:
            tracemalloc.start(frames)
        self._origin = time.monotonic()
        self.snapshots: list[core.MemorySnapshot] = []
        self._tracker = core.TypeTracker()
        self._tracker.prime()

    def take(self, label: str = "") -> core.MemorySnapshot:
        snap = core.take_snapshot(label or f"snapshot {len(self.snapshots) + 1}")
        self.snapshots.append(snap)
        return snap

    take_snapshot = take

    def top(
        self, snapshot: core.MemorySnapshot, by: core.By = "line", limit: int | None = 10
    ) -> list[AllocationSite]:
        return core.top_allocations(snapshot, by, limit)

    top_allocations = top

    def compare(
        self, a: core.MemorySnapshot, b: core.MemorySnapshot, by: core.By = "line", limit: int | None = 10
    ) -> list[SiteGrowth]:
        return core.compare_snapshots(a, b, by, limit)

    compare_snapshots = compare

    def most_common_types(self, limit: int | None = 10) -> list[TypeCount]:
        return core.most_common_types(limit)

    def type_growth(self, limit: int | None = 10) -> list[TypeCount]:
        """Types that grew since the previous call (the first call: since the session opened)."""
        return self._tracker.growth(limit)

    @property
    def points(self) -> list[SnapshotPoint]:
        return [SnapshotPoint(label=s.label, t=s.t, traced=s.traced, rss=s.rss) for s in self.snapshots]

    def plot(self, path: str | os.PathLike[str], *, title: str = "") -> Path:
        return plot_snapshots(self.points, path, title=title)

    def close(self) -> None:
        self.snapshots.clear()
        if self._started and tracemalloc.is_tracing():
            tracemalloc.stop()
        self._started = False
