"""The engines behind the optional fixtures and the ``memory_gc`` marker (GC monitor, guard, stress).

Each is imported only when a test asks for it; a build without the engine skips the
fixture with the reason (see :mod:`memwatch.plugin.fixtures`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from memwatch.model.pytest import CheckOutcome

__all__ = ["GCCheck", "pressure_simulator", "running_gc_monitor", "running_guard"]


@contextmanager
def running_gc_monitor() -> Iterator[Any]:
    """A started ``GCMonitor``; stopped at the end (its ``report()`` stays readable)."""
    from memwatch.gcwatch import GCMonitor

    monitor = GCMonitor()
    monitor.start()
    try:
        yield monitor
    finally:
        if monitor.running:
            monitor.stop()


@contextmanager
def running_guard() -> Iterator[Any]:
    """A ``MemoryGuard`` with the default thresholds, *not* started (configure it, then
    ``start()`` or ``with guard:``); closed at the end."""
    from memwatch.guard import MemoryGuard

    guard = MemoryGuard()
    try:
        yield guard
    finally:
        guard.close()


@contextmanager
def pressure_simulator() -> Iterator[Any]:
    """A ``MemoryPressureSimulator``; every block it still holds is released at the end."""
    from memwatch.stress import MemoryPressureSimulator

    simulator = MemoryPressureSimulator()
    try:
        yield simulator
    finally:
        simulator.release_memory()


class GCCheck:
    """``memory_gc``: the body under the GC monitor, judged by ``[tool.memwatch] gc``.

    The check fails when the 95th percentile of the body's collection pauses exceeds
    ``gc.pause_p95_ms`` (default 100 ms) or the longest exceeds ``gc.pause_max_ms``
    (when set). With fewer than 20 pauses the p95 is close to the maximum.
    """

    def __init__(self, p95_ms: float, max_ms: float | None) -> None:
        from memwatch.gcwatch import GCMonitor

        self.p95_ms = p95_ms
        self.max_ms = max_ms
        self.monitor = GCMonitor()
        self.monitor.start()

    def finish(self) -> CheckOutcome:
        report = self.monitor.stop() if self.monitor.running else self.monitor.report
        pauses = report.pauses.get("all")
        summary = report.summary()
        if pauses is None or not pauses.count:
            return CheckOutcome("memory_gc", True, detail="no collection during the body")
        problems = []
        if pauses.p95_ms > self.p95_ms:
            problems.append(f"p95 pause {pauses.p95_ms:.3f} ms > {self.p95_ms:g} ms")
        if self.max_ms is not None and pauses.max_ms > self.max_ms:
            problems.append(f"longest pause {pauses.max_ms:.3f} ms > {self.max_ms:g} ms")
        detail = f"{pauses.count} pauses, p95 {pauses.p95_ms:.3f} ms, max {pauses.max_ms:.3f} ms"
        if not problems:
            return CheckOutcome("memory_gc", True, measured=pauses.p95_ms, detail=detail)
        message = (
            "@pytest.mark.memory_gc: garbage-collection pauses of the test body over budget: "
            + "; ".join(problems)
            + "\n"
            + summary
        )
        return CheckOutcome("memory_gc", False, measured=pauses.p95_ms, message=message, detail=detail)
