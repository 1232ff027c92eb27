"""Document 000's "Performance Regression Testing" example, run as written (only the import points
at memwatch), inside ``async def`` tests as its users run it. The names it leaves undefined
(``my_benchmark_function``, ``baseline_metrics``) are defined here: a function with a known
allocation, and an earlier benchmark of it. The history database is a fresh file per test
(``$MEMWATCH_DB``), as a CI job would point it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from memwatch import MemoryPerformanceRegression
from memwatch.config.lifecycle import Pending
from memwatch.errors import ConfigError, UsageError
from memwatch.store import open_store

KB = 1000
MB = 1000 * KB
SIZE = {"bytes": 2 * MB}  # what the function under test allocates per call (changed by the tests)


async def my_benchmark_function() -> int:
    """An async query that builds a response of SIZE bytes in 100 parts and drops it (a change
    in memory counts from 1 MiB, ``regression.abs_floor``: the sizes are above it)."""
    await asyncio.sleep(0)
    parts = [bytearray(SIZE["bytes"] // 100) for _ in range(100)]
    return sum(map(len, parts))


@pytest.fixture(autouse=True)
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "history.db"
    monkeypatch.setenv("MEMWATCH_DB", str(db))
    monkeypatch.chdir(tmp_path)  # no memwatch.yaml found: the defaults
    monkeypatch.setitem(SIZE, "bytes", 2 * MB)
    return db


@pytest.mark.asyncio
async def test_the_documented_example_finds_a_memory_regression(capsys: pytest.CaptureFixture[str]) -> None:
    baseline_metrics = await MemoryPerformanceRegression().benchmark_memory_performance(
        component_name="ExpertManager", test_name="query_processing", test_function=my_benchmark_function
    )
    SIZE["bytes"] = 6 * MB  # the query now builds three times as much

    # -- document 000, as written --
    tester = MemoryPerformanceRegression()
    metrics = await tester.benchmark_memory_performance(
        component_name="ExpertManager", test_name="query_processing", test_function=my_benchmark_function
    )

    result = tester.compare_with_baseline(metrics, baseline_metrics)
    print(f"Regression detected: {result.regression_detected}")
    # -- end of the document's example --

    assert capsys.readouterr().out == "Regression detected: True\n"
    peak = result.change("peak")
    assert (peak.verdict, peak.direction, peak.threshold_percent) == ("regressed", "lower", 15.0)
    assert peak.baseline is not None
    assert peak.value is not None
    assert 1.9 * MB < peak.baseline < 2.2 * MB  # the 2 MB built, plus the list and its slack
    assert 5.9 * MB < peak.value < 6.3 * MB
    assert peak.change_percent is not None
    assert 150 < peak.change_percent < 250
    assert result.severity == "critical"
    assert result.confidence > 0.95  # 5 samples a side, every current peak above every baseline one
    assert (metrics.iterations, metrics.samples, metrics.batch) == (100, 5, 20)
    assert metrics.test_id == "ExpertManager::query_processing"
    assert 5.9 < metrics.peak_memory_mb < 6.3


@pytest.mark.asyncio
async def test_an_unchanged_function_keeps_its_memory_figures() -> None:
    tester = MemoryPerformanceRegression()
    baseline_metrics = await tester.benchmark_memory_performance(
        component_name="ExpertManager", test_name="query_processing", test_function=my_benchmark_function
    )
    metrics = await tester.benchmark_memory_performance(
        component_name="ExpertManager", test_name="query_processing", test_function=my_benchmark_function
    )
    result = tester.compare_with_baseline(metrics, baseline_metrics)
    assert result.change("peak").verdict == "unchanged"
    assert result.change("growth").verdict == "unchanged"
    # the timing metrics are there, each with its direction (their verdict depends on the machine's load)
    assert result.change("ops_per_second").direction == "higher"
    assert result.change("time_per_op").direction == "lower"
    assert {c.metric for c in result.regressions} <= {"ops_per_second", "time_per_op", "gc_pause_avg_ms"}


def test_a_slower_function_regresses_in_operations_per_second() -> None:
    import time

    def quick() -> bytes:
        return bytes(1000)

    def slow() -> bytes:
        time.sleep(0.002)  # 2 ms per call: at least ten times slower than quick on any machine
        return bytes(1000)

    tester = MemoryPerformanceRegression(record=False)
    before = tester.benchmark_memory_performance("lookup", quick, 50)
    after = tester.benchmark_memory_performance("lookup", slow, 50)
    result = tester.compare_with_baseline(after, before)
    ops = result.change("ops_per_second")
    assert (ops.verdict, ops.direction) == ("regressed", "higher")
    assert ops.change_percent is not None
    assert ops.change_percent < -80
    assert result.change("time_per_op").verdict == "regressed"
    assert result.regression_detected
    # and the other way round, the faster one is an improvement, not a regression
    back = tester.compare_with_baseline(before, after)
    assert back.change("ops_per_second").verdict == "improved"
    assert back.change("time_per_op").verdict == "improved"


@pytest.mark.asyncio
async def test_the_stored_baseline_is_used_when_none_is_given(history: Path) -> None:
    tester = MemoryPerformanceRegression()
    first = await tester.benchmark_memory_performance("query", my_benchmark_function, 100)
    new = tester.compare_with_baseline(first)
    assert not new.regression_detected
    assert {c.verdict for c in new.changes} == {"new"}
    assert new.baseline_source == "no baseline yet (this one is now)"

    SIZE["bytes"] = 6 * MB
    second = await tester.benchmark_memory_performance("query", my_benchmark_function, 100)
    result = tester.compare_with_baseline(second)
    assert result.regression_detected
    assert result.change("peak").verdict == "regressed"
    assert result.baseline_source == f"the stored baseline in {history}"
    with open_store(str(history), read_only=True) as store:
        runs = store.runs(kind="perf")
        assert [r.id for r in runs] == [second.run_id, first.run_id]
        (peak,) = store.baselines("query", "peak")
        assert peak.run_id == first.run_id  # a regression does not move the baseline
        assert [p.value for p in store.trend("query", "peak")] == [first.peak, second.peak]


@pytest.mark.asyncio
async def test_reading_the_metrics_without_await_names_the_fix() -> None:
    pending = MemoryPerformanceRegression().benchmark_memory_performance("q", my_benchmark_function, 10)
    assert isinstance(pending, Pending)
    with pytest.raises(UsageError, match="await benchmark_memory_performance"):
        _ = pending.peak
    with pytest.raises(ConfigError, match="did you forget to await it"):
        MemoryPerformanceRegression().compare_with_baseline(pending)  # type: ignore[arg-type]
    await pending


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"func": len}, "needs a name"),
        ({"name": "x", "func": None}, "needs a function to measure"),
        ({"name": "x", "func": len, "iterations": 3}, "iterations must be an integer >= 5"),
    ],
)
def test_bad_arguments_are_one_clear_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        MemoryPerformanceRegression(record=False).benchmark_memory_performance(**kwargs)  # type: ignore[arg-type]


def test_per_metric_thresholds_are_the_configs_and_the_callers() -> None:
    tester = MemoryPerformanceRegression(record=False, thresholds={"peak": "5%"})
    before = tester.benchmark_memory_performance("t", lambda: bytearray(12 * MB), 10)
    after = tester.benchmark_memory_performance("t", lambda: bytearray(13_200 * KB), 10)  # +10 %
    assert tester.compare_with_baseline(after, before).change("peak").verdict == "regressed"
    default = MemoryPerformanceRegression(record=False)  # 15 % by default
    assert default.compare_with_baseline(after, before).change("peak").verdict == "unchanged"
