"""Results of :mod:`memwatch.snapshots`: allocation sites, their growth, and object counts by type."""

from __future__ import annotations

from dataclasses import dataclass

from memwatch.model.base import Record

__all__ = ["AllocationSite", "SiteGrowth", "SnapshotPoint", "TypeCount"]


@dataclass(frozen=True)
class AllocationSite(Record):
    """Live memory allocated at one place: ``where`` is ``file:line``, ``file`` or a traceback."""

    where: str
    size: int
    count: int
    traceback: tuple[str, ...] = ()


@dataclass(frozen=True)
class SiteGrowth(Record):
    """How one allocation site changed from snapshot ``a`` to snapshot ``b`` (``size`` is b's)."""

    where: str
    size: int
    size_diff: int
    count: int
    count_diff: int
    traceback: tuple[str, ...] = ()


@dataclass(frozen=True)
class TypeCount(Record):
    """Live objects of one type tracked by the garbage collector; ``growth`` since the last look."""

    name: str
    count: int
    growth: int = 0


@dataclass(frozen=True)
class SnapshotPoint(Record):
    """What a labelled snapshot measured: seconds since the first snapshot, traced bytes, RSS."""

    label: str
    t: float
    traced: int
    rss: int
