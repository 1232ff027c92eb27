"""detect_leaks on real leaky and clean functions: verdicts, budgets, bad input."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator
from typing import ClassVar

import pytest

from memwatch.errors import ConfigError, LeakDetected, OperationError, UsageError
from memwatch.leaks.runner import MemoryLeakDetector, adetect_leaks, detect_leaks
from memwatch.probes import native

pytestmark = pytest.mark.integration

_KEPT: list[bytes] = []


def leaky_kilobyte() -> None:
    _KEPT.append(bytes(1000))


def clean_work() -> None:
    data = [str(i) for i in range(20)]
    "".join(data)


@pytest.fixture(autouse=True)
def _release() -> Iterator[None]:
    gc.collect()
    yield
    _KEPT.clear()
    assert gc.get_freeze_count() == 0  # detect_leaks always unfreezes


def test_growth_within_the_budget_passes_and_over_it_is_a_leak() -> None:
    report = detect_leaks(leaky_kilobyte, max_growth="2 MB")
    assert report.verdict == "growth"  # ~1 MB per 1,000 calls: within 2 MB, it passes
    assert report.passed
    assert report.leak_detected
    assert "LEAK" not in report.summary()
    assert report.deciding_signal == "py_blocks"
    assert report.kind == "python"
    # ~1 KB per call: 1 MB per 1,000 calls, at the default budget's edge; bound it loosely.
    assert 900 <= report.bytes_per_iteration <= 1300
    assert report.bytes_low <= report.bytes_per_iteration <= report.bytes_high
    assert report.rounds >= 8
    # Round sizes are jittered by up to 25% around the batch size.
    nominal = report.rounds * report.batch_size
    assert 0.75 * nominal <= report.iterations <= 1.25 * nominal
    tight = detect_leaks(leaky_kilobyte, max_growth="100 kB", attribute=False)
    assert (tight.verdict, tight.passed, tight.failed) == ("leak", False, True)
    assert tight.summary().startswith("LEAK (trace, python)")
    assert tight.summary().endswith(": over the budget of 100 kB")
    with pytest.raises(LeakDetected) as info:
        tight.raise_for_leaks()
    assert info.value.report is tight


def test_clean_function_is_clean() -> None:
    report = detect_leaks(clean_work)
    assert report.verdict == "clean"
    assert not report.leak_detected
    assert report.severity == "none"
    assert report.passed
    assert report.sites == ()
    assert report.retention_paths == ()
    assert "no signal grew" in report.reason


@pytest.mark.skipif(bool(native.native_reason()), reason=native.native_reason() or "n/a")
def test_native_leak_is_called_native() -> None:
    from tests.leak_corpus import native as corpus_native

    report = detect_leaks(corpus_native.malloc_leak)
    assert report.leak_detected
    assert report.kind == "native"
    assert report.deciding_signal == "native_heap"
    assert 1500 <= report.bytes_per_iteration <= 3000  # malloc(2048) plus chunk overhead
    assert "native" in report.explain()


async def _async_leak() -> None:
    await asyncio.sleep(0)
    _KEPT.append(bytes(500))


async def _async_clean() -> None:
    await asyncio.sleep(0)


def test_async_functions_run_in_a_fresh_loop() -> None:
    assert detect_leaks(_async_leak, attribute=False).leak_detected
    assert not detect_leaks(_async_clean).leak_detected


def test_adetect_leaks_inside_a_running_loop() -> None:
    async def main() -> tuple[bool, bool]:
        with pytest.raises(UsageError, match="adetect_leaks"):
            detect_leaks(_async_clean)
        leak = await adetect_leaks(_async_leak, attribute=False)
        clean = await adetect_leaks(_async_clean)
        return leak.leak_detected, clean.leak_detected

    assert asyncio.run(main()) == (True, False)


def _raises_value_error() -> None:
    scratch = [0] * 100
    raise ValueError(f"bad {len(scratch)}")


def test_expected_exceptions_measure_the_error_path() -> None:
    report = detect_leaks(_raises_value_error, expected_exceptions=(ValueError,))
    assert report.verdict == "clean"
    assert any("expected exceptions" in note for note in report.notes)


def test_unexpected_exception_gives_no_verdict() -> None:
    with pytest.raises(OperationError) as info:
        detect_leaks(_raises_value_error)
    assert isinstance(info.value.original, ValueError)
    assert "_raises_value_error" in info.value.traceback_text
    assert "raised ValueError: bad 100" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"iterations": -5}, "iterations=-5 is out of range"),
        ({"iterations": 0}, "iterations=0 is out of range"),
        ({"iterations": 10**12}, "out of range"),
        ({"iterations": "ten"}, "iterations must be a whole number"),
        ({"warmup": -1}, "warmup=-1 is out of range"),
        ({"max_growth": "12 XB"}, "unknown unit"),
        ({"time_budget": "-3s"}, "invalid duration"),
        ({"signals": ["bogus"]}, "unknown signal"),
        ({"signals": ["rss"]}, "rss never decides alone"),
        ({"expected_exceptions": (int,)}, "expected_exceptions"),
        ({"args": 5}, "args must be a tuple"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        detect_leaks(clean_work, **kwargs)


def test_not_callable() -> None:
    with pytest.raises(ConfigError, match="is not callable"):
        detect_leaks(42)  # type: ignore[arg-type]


def test_operation_slower_than_the_time_budget_is_inconclusive() -> None:
    report = detect_leaks(lambda: time.sleep(0.3), time_budget=0.1)
    assert report.verdict == "inconclusive"
    assert not report.leak_detected
    assert "longer than the time budget" in report.reason
    report = detect_leaks(lambda: time.sleep(0.02), time_budget=0.15)
    assert report.verdict == "inconclusive"
    assert "at least 8 are needed" in report.reason


def test_iterations_cap_the_measured_calls() -> None:
    report = detect_leaks(clean_work, iterations=200, warmup=20)
    assert report.iterations <= 200
    assert report.warmup_iterations == 20
    assert report.verdict == "clean"
    few = detect_leaks(clean_work, iterations=5)
    assert few.verdict == "inconclusive"
    assert "iteration cap" in few.reason


def test_setup_teardown_and_signals() -> None:
    calls = {"setup": 0, "teardown": 0}

    def setup() -> None:
        calls["setup"] += 1

    def teardown() -> None:
        calls["teardown"] += 1

    report = detect_leaks(
        clean_work, setup=setup, teardown=teardown, signals=["py_blocks"], reset_caches=False
    )
    assert calls["setup"] == calls["teardown"] > report.iterations
    assert [e.signal for e in report.signals] == ["py_blocks"]


class Component:
    registry: ClassVar[list[Component]] = []
    closed = 0

    def __init__(self) -> None:
        self.buffer = bytearray(512)

    def close(self) -> None:
        Component.closed += 1


def test_component_lifecycle_mode() -> None:
    detector = MemoryLeakDetector(attribute=False)
    clean = detector.detect_leaks_in_component(Component, lambda c: len(c.buffer), iterations=400)
    assert clean.verdict == "clean"
    assert Component.closed > 0
    leaky = detector.detect_leaks_in_component(Component, Component.registry.append, iterations=400)
    assert leaky.leak_detected
    Component.registry.clear()


def test_component_mode_is_awaitable_for_async_operations() -> None:
    async def operate(component: Component) -> None:
        await asyncio.sleep(0)

    result = MemoryLeakDetector().detect_leaks_in_component(Component, operate, iterations=400)
    assert asyncio.iscoroutine(result)
    report = asyncio.run(result)
    assert report.verdict == "clean"


def test_detector_detect_leaks_passes_arguments() -> None:
    seen = []
    report = MemoryLeakDetector().detect_leaks(lambda x, y=0: seen.append([x, y]), 1, y=2, iterations=300)
    assert seen[0] == [1, 2]
    assert report.leak_detected
    seen.clear()


def test_severity_thresholds_are_configurable() -> None:
    report = detect_leaks(
        leaky_kilobyte, attribute=False, severity={"minor": "10 kB", "major": "100 kB", "critical": "200 kB"}
    )
    assert report.severity == "critical"  # ~1 MB per 1,000 calls
    assert report.thresholds["minor"] == 10_000


@pytest.mark.parametrize(
    ("severity", "message"),
    [
        ({"huge": "1 MB"}, "unknown severity level"),
        ({"minor": "50 MB"}, "must grow"),
        ({"minor": "lots"}, "invalid size"),
    ],
)
def test_bad_severity(severity: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        detect_leaks(clean_work, severity=severity)


def test_a_large_leak_is_measured_within_the_memory_cap() -> None:
    from memwatch.probes import process

    before = process.rss()
    report = detect_leaks(lambda: _KEPT.append(bytes(2_000_000)), attribute=False)
    assert report.leak_detected
    assert report.severity == "critical"  # ~2 GB per 1,000 calls
    assert report.batch_size <= 10  # the batch was cut to fit the memory cap
    assert process.rss() - before < 600 * 2**20


def test_detections_cannot_overlap() -> None:
    def nested() -> None:
        detect_leaks(clean_work)

    with pytest.raises(OperationError) as info:
        detect_leaks(nested)
    assert isinstance(info.value.original, UsageError)
    assert "cannot overlap" in str(info.value.original)
    assert not detect_leaks(clean_work).leak_detected  # the lock was released


def test_a_function_returning_a_coroutine_is_refused() -> None:
    with pytest.raises(ConfigError, match="returned a coroutine"):
        detect_leaks(lambda: _async_clean())  # noqa: PLW0108 - a plain function on purpose
    assert gc.get_freeze_count() == 0


def test_a_descriptor_leak_never_passes_a_byte_budget() -> None:
    from tests.leak_corpus import leaky

    try:
        report = detect_leaks(leaky.fd_leak, max_growth="1 GB")
    finally:
        leaky.reset()
    assert (report.kind, report.severity) == ("fds", "critical"), report.explain()
    assert 0.9 < report.resources_per_iteration < 1.1
    assert not report.passed  # 1 GB of byte budget does not cover file descriptors
    assert "1,000 file descriptors per 1,000 calls" in report.summary()
