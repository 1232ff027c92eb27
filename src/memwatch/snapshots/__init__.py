"""Snapshots: live allocations by line/file/traceback, their growth, object counts by type.

See :mod:`memwatch.snapshots.core`; :func:`plot_snapshots` draws memory over labelled snapshots.
"""

from memwatch.snapshots.core import (
    MemorySnapshot,
    TypeTracker,
    compare_snapshots,
    history,
    most_common_types,
    stop,
    take_snapshot,
    top_allocations,
    type_growth,
)
from memwatch.snapshots.plot import plot_snapshots
from memwatch.snapshots.session import SnapshotSession

__all__ = [
    "MemorySnapshot",
    "SnapshotSession",
    "TypeTracker",
    "compare_snapshots",
    "history",
    "most_common_types",
    "plot_snapshots",
    "stop",
    "take_snapshot",
    "top_allocations",
    "type_growth",
]
