"""Document 001's regression suite against memwatch's regression check.

The document's ``_check_regressions`` computes ``(baseline - current) / baseline`` for every
metric, so it treats each one as higher-is-better: a GC pause that doubles passes and one
that halves fails. memwatch judges each metric in its direction (:mod:`memwatch.regression.metrics`)
and takes the document's ``THRESHOLDS`` as ``regression.thresholds`` (percent per metric);
its baselines and history are the history database's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from memwatch.config.schema import validate_config
from memwatch.model.history import ResultRow
from memwatch.regression.metrics import direction_of
from memwatch.store import check_run, open_store
from tests.seed001.test_memory_regression import MemoryRegressionSuite

BASELINE = {
    "allocation_speed": 5_000_000.0,  # pool acquire+release pairs per second
    "gc_pause_time": 0.010,  # seconds
    "memory_efficiency": 0.95,  # share of the allocation given back
    "cache_performance": 2_000_000.0,  # gets per second
}


def _config() -> object:
    """The document's THRESHOLDS (fractions) as memwatch's per-metric percents."""
    percents = {name: share * 100 for name, share in MemoryRegressionSuite.THRESHOLDS.items()}
    return validate_config({"regression": {"thresholds": percents}})


def _check(tmp_path: Path, current: dict[str, float]) -> dict[str, str]:
    """Record the baseline and the current figures as two runs; memwatch's verdict per metric."""
    config = _config()
    with open_store(str(tmp_path / "history.db")) as store:
        first = store.record_run("suite", [ResultRow("suite", m, "", (v,)) for m, v in BASELINE.items()])
        store.set_baselines_from_run(first)
        second = store.record_run("suite", [ResultRow("suite", m, "", (v,)) for m, v in current.items()])
        report = check_run(store, second, config=config.regression, update_baselines=False)  # type: ignore[attr-defined]
    return {c.metric: c.status for c in report.checks}


def test_the_directions_of_the_documents_metrics() -> None:
    assert {m: direction_of(m) for m in BASELINE} == {
        "allocation_speed": "higher",
        "gc_pause_time": "lower",
        "memory_efficiency": "higher",
        "cache_performance": "higher",
    }


def test_a_doubled_gc_pause_is_a_regression_to_memwatch_only(tmp_path: Path) -> None:
    current = {**BASELINE, "gc_pause_time": 0.020}
    MemoryRegressionSuite()._check_regressions(BASELINE, current)  # the document's check passes it
    assert _check(tmp_path, current)["gc_pause_time"] == "regressed"


def test_a_halved_gc_pause_is_an_improvement_not_a_failure(tmp_path: Path) -> None:
    current = {**BASELINE, "gc_pause_time": 0.005}
    with pytest.raises(pytest.fail.Exception, match=r"gc_pause_time: 50\.0% degradation"):
        MemoryRegressionSuite()._check_regressions(BASELINE, current)  # the document's check fails it
    assert _check(tmp_path, current)["gc_pause_time"] == "improved"


def test_the_documents_thresholds_per_metric(tmp_path: Path) -> None:
    """10 % for allocation_speed and cache_performance, 15 % for memory_efficiency."""
    current = {
        "allocation_speed": BASELINE["allocation_speed"] * 0.88,  # -12 %: past 10 %
        "gc_pause_time": BASELINE["gc_pause_time"] * 1.15,  # +15 %: within 20 %
        "memory_efficiency": BASELINE["memory_efficiency"] * 0.88,  # -12 %: within 15 %
        "cache_performance": BASELINE["cache_performance"] * 1.5,  # faster
    }
    assert _check(tmp_path, current) == {
        "allocation_speed": "regressed",
        "cache_performance": "improved",
        "gc_pause_time": "unchanged",
        "memory_efficiency": "unchanged",
    }
    with pytest.raises(pytest.fail.Exception, match=r"allocation_speed: 12\.0% degradation"):
        MemoryRegressionSuite()._check_regressions(BASELINE, current)  # the document agrees on this one


def test_the_document_suite_first_run_saves_its_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    metrics = MemoryRegressionSuite().run_regression_tests()
    assert set(metrics) == set(BASELINE)
    assert MemoryRegressionSuite.load_baseline() == metrics
    assert metrics["allocation_speed"] > 10_000  # pairs per second, any machine
    # the share of 100 MB the process gave back: 0.99 in a fresh process, 0.0 where earlier
    # frees raised glibc's mmap threshold and the 1 MB buffers stayed in its heap (the
    # document's figure measures the allocator as much as the code)
    assert -0.05 < metrics["memory_efficiency"] <= 1.0
