"""Document 000's README snippets, run as written (only the imports point at memwatch).

Each test is the document's example inside an ``async def`` test, as its users run it
(pytest-asyncio), with the names it leaves undefined (``ExpertManager``,
``my_operation``) defined here with real, measured behaviour.
"""

from __future__ import annotations

import asyncio

import pytest

from memwatch import GCPerformanceValidator, MemoryLeakDetector, MemoryStressTester
from memwatch.config.lifecycle import Pending
from memwatch.errors import OperationError, UsageError

MB = 10**6
KEPT: list[bytearray] = []


class ExpertManager:
    """A component with an async lifecycle, like the document's."""

    def __init__(self) -> None:
        self.cache: dict[int, bytes] = {}
        self.closed = False

    async def initialize(self) -> None:
        await asyncio.sleep(0)

    async def shutdown(self) -> None:
        self.cache.clear()
        self.closed = True


def sync_operation(manager: ExpertManager) -> int:
    manager.cache[1] = b"x" * 1000
    return len(manager.cache)


async def async_operation(manager: ExpertManager) -> int:
    await manager.initialize()
    manager.cache[1] = b"x" * 1000
    return len(manager.cache)


def leaky_operation(manager: ExpertManager) -> None:
    KEPT.append(bytearray(100_000))  # 100 kB kept per call, past the component's life


@pytest.mark.asyncio
@pytest.mark.parametrize("my_operation", [sync_operation, async_operation])
async def test_leak_detection_example_awaits_sync_and_async_operations(my_operation: object) -> None:
    detector = MemoryLeakDetector()
    result = await detector.detect_leaks_in_component(
        component_factory=lambda: ExpertManager(),  # noqa: PLW0108 - as the document writes it
        operation_func=my_operation,
        iterations=100,
    )

    print(f"Leak detected: {result.leak_detected}")
    print(f"Severity: {result.leak_severity}")
    print(f"Memory growth: {result.memory_growth_mb:.2f}MB")
    assert result.iterations == 100  # the iterations asked for, all measured
    assert (result.leak_detected, result.leak_severity, result.memory_growth_mb) == (False, "none", 0.0)


@pytest.mark.asyncio
async def test_leak_detection_example_finds_a_leak_with_its_growth() -> None:
    detector = MemoryLeakDetector()
    result = await detector.detect_leaks_in_component(
        component_factory=lambda: ExpertManager(),  # noqa: PLW0108 - as the document writes it
        operation_func=leaky_operation,
        iterations=100,
    )
    try:
        assert result.iterations == 100
        assert result.leak_detected
        # 100 calls x 100 kB = 10 MB kept; the estimate comes with noise
        assert 7 < result.memory_growth_mb < 13
        assert result.leak_severity == result.severity
        assert result.leak_severity in ("minor", "major", "critical")  # 1 GB per 1,000 calls: critical
    finally:
        KEPT.clear()


@pytest.mark.asyncio
async def test_reading_a_result_without_await_names_the_fix() -> None:
    pending = MemoryLeakDetector().detect_leaks_in_component(ExpertManager, sync_operation, iterations=20)
    assert isinstance(pending, Pending)
    with pytest.raises(UsageError, match="await detect_leaks_in_component"):
        _ = pending.leak_detected
    del pending  # closed without a "never awaited" warning (filterwarnings=error would fail)


class Client:
    def __init__(self) -> None:
        self.buffer = bytearray(1000)

    def close(self) -> None:
        self.buffer = bytearray()


def test_plain_code_still_gets_the_report() -> None:
    report = MemoryLeakDetector().detect_leaks_in_component(Client, lambda c: len(c.buffer), iterations=100)
    assert report.iterations == 100
    assert report.verdict == "clean"


def test_plain_code_refuses_an_operation_that_returns_an_awaitable() -> None:
    with pytest.raises(OperationError, match="returned an awaitable outside an event loop"):
        MemoryLeakDetector().detect_leaks_in_component(Client, lambda c: asyncio.sleep(0), iterations=20)


@pytest.mark.asyncio
async def test_gc_example_validation_is_its_verdict() -> None:
    def my_operation() -> None:
        garbage = [{"data": bytearray(64), "refs": []} for _ in range(50)]
        for item in garbage:
            item["refs"].append(item)  # cycles: the collector has work

    validator = GCPerformanceValidator()
    metrics = await validator.test_gc_frequency(
        operation_func=my_operation, iterations=1000, component_name="ExpertManager"
    )

    is_efficient = validator.validate_gc_efficiency(metrics)
    print(f"GC efficiency: {metrics.gc_efficiency_score:.2f}")
    assert 0.0 <= metrics.gc_efficiency_score <= 1.0
    assert metrics.gc_efficiency_score == pytest.approx(1 - metrics.pauses["all"].share)
    assert bool(is_efficient) is is_efficient.passed
    strict = GCPerformanceValidator({"max_pause_ms": 0.0, "max_pause_p95_ms": 0.0})
    assert metrics.collections > 0
    assert not strict.validate_gc_efficiency(metrics)  # a failed check is falsy


@pytest.mark.asyncio
async def test_stress_example_awaits_and_reports_cpu() -> None:
    tester = MemoryStressTester()
    result = await tester.test_memory_pressure_scenarios()

    print(f"Breaking point reached: {result.breaking_point_reached}")
    print(f"Stability score: {result.stability_score:.2f}")
    assert result.breaking_point_reached  # the default levels go past the default 512 MiB cap
    assert result.breaking_point is not None
    assert result.breaking_point > 256 * MB
    assert result.child is not None
    assert result.child.wall_time > 0
    # touching hundreds of MB of pages takes CPU time; the child cannot use more than the wall
    assert result.cpu_time > 0
    assert 0 < result.cpu_utilisation <= 1.5
    assert result["cpu_time"] == result.cpu_time
