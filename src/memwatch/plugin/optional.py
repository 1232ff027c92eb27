"""Context managers over engines that may be missing from a build (GC monitor, guard, stress)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["pressure_simulator", "running_gc_monitor", "running_guard"]


@contextmanager
def running_gc_monitor() -> Iterator[Any]:
    from memwatch.gcwatch import GCMonitor  # type: ignore[import-not-found,unused-ignore]

    monitor = GCMonitor()
    monitor.start()
    try:
        yield monitor
    finally:
        monitor.stop()


@contextmanager
def running_guard() -> Iterator[Any]:
    from memwatch.guard import MemoryGuard  # type: ignore[attr-defined,unused-ignore]

    guard = MemoryGuard()
    try:
        yield guard
    finally:
        stop = getattr(guard, "stop", None)
        if callable(stop):
            stop()


@contextmanager
def pressure_simulator() -> Iterator[Any]:
    from memwatch.stress import MemoryPressureSimulator  # type: ignore[attr-defined,unused-ignore]

    simulator = MemoryPressureSimulator()
    try:
        yield simulator
    finally:
        release = getattr(simulator, "release", None) or getattr(simulator, "stop", None)
        if callable(release):
            release()
