"""``memwatch bench`` and run_memory_benchmarks on this machine (quick workloads)."""

from __future__ import annotations

import math
import os
import types
from pathlib import Path

import pytest

from memwatch.benchset import (
    BENCHMARKS,
    TEST_ID,
    memory_benchmarks_check,
    record_benchmarks,
    run_memory_benchmarks,
)
from memwatch.cli import main
from memwatch.config.schema import validate_config
from memwatch.model.base import read_document
from memwatch.model.bench import BenchReport

pytestmark = pytest.mark.integration

CHEAP = ["--only", "cache_get_latency_us", "--only", "cache_hit_rate"]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no memwatch.yaml found upwards from here
    monkeypatch.setenv("MEMWATCH_DB", str(tmp_path / "history.db"))
    return tmp_path


def test_full_quick_set_measures_everything() -> None:
    report = run_memory_benchmarks(quick=True)
    assert [m.name for m in report.metrics] == [b.name for b in BENCHMARKS]
    for m in report.metrics:
        assert math.isfinite(m.value), m
        assert m.value > 0, m
        assert m.samples, m
    pauses = report.metric("gc_pause_p99_ms").samples
    assert report.metric("gc_pause_avg_ms").samples == pauses  # one workload feeds both
    assert min(pauses) <= report.metric("gc_pause_p99_ms").value <= max(pauses)
    assert 0.5 < report.metric("cache_hit_rate").value < 0.95  # Zipf(1.2), 10% of keys cached
    assert report.machine.cpu_count == os.cpu_count()
    assert report.machine.memory_limit > 0


def test_json_report_and_pass(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (in_tmp / "memwatch.yaml").write_text(
        "bench:\n  thresholds:\n    cache_get_latency_us: 1000\n    cache_hit_rate: 0.1\n"
    )
    rc = main(["bench", "--quick", *CHEAP, "--json", "out.json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "memory benchmarks on " in out.out
    assert "cache_hit_rate" in out.out
    assert "2 passed, 0 failed" in out.out
    report = read_document(in_tmp / "out.json", expected=BenchReport)
    assert [m.name for m in report.metrics] == ["cache_hit_rate", "cache_get_latency_us"]
    assert report.metric("cache_get_latency_us").threshold == 1000
    assert report.config_source.endswith("memwatch.yaml")
    assert report.passed


def test_a_failed_threshold_exits_1(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (in_tmp / "strict.yaml").write_text("bench:\n  thresholds:\n    cache_get_latency_us: 0.000001\n")
    rc = main(["bench", "--quick", "--only", "cache_get_latency_us", "--config", "strict.yaml"])
    out = capsys.readouterr()
    assert rc == 1
    assert "FAIL" in out.out
    assert out.err.strip() == "memwatch: 1 benchmark(s) failed their threshold: cache_get_latency_us"


@pytest.mark.parametrize(
    ("args", "yaml", "message"),
    [
        (
            ["--config", "bad.yaml"],
            "bench:\n  thresholds:\n    cache_latency: 1\n",
            "bad.yaml: bench.thresholds.cache_latency: unknown benchmark",
        ),
        (
            ["--config", "bad.yaml"],
            "bench:\n  thresholds:\n    pool_rate: -5\n",
            "bench.thresholds.pool_rate: expected a number >= 0, got -5",
        ),
        (["--config", "missing.yaml"], None, "config file missing.yaml does not exist"),
        (["--json", "no/such/folder/out.json"], None, "cannot write no/such/folder/out.json: folder"),
        (["--only", "speed"], None, "Invalid value for '--only': 'speed' is not one of"),
        # refused before the run (was: the whole set ran, then the write failed)
        (["--json", "/proc/memwatch-qa.json"], None, "cannot write /proc/memwatch-qa.json"),
    ],
)
def test_user_mistakes_exit_2(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], args: list[str], yaml: str | None, message: str
) -> None:
    if yaml is not None:
        (in_tmp / "bad.yaml").write_text(yaml)
    rc = main(["bench", "--quick", *args])
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1, err
    assert message in err
    assert not (in_tmp / "no").exists()


def test_record_into_history(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["bench", "--quick", "--only", "cache_hit_rate", "--record"])
    out = capsys.readouterr().out
    assert rc == 0
    assert f"(see: memwatch history {TEST_ID} --metric <benchmark>)" in out
    from memwatch.store import open_store

    with open_store(str(in_tmp / "history.db")) as store:
        runs = store.runs(kind="bench")
        assert len(runs) == 1
        rows = store.results(runs[0].id)
        assert [(r.test_id, r.metric, r.unit) for r in rows] == [(TEST_ID, "cache_hit_rate", "fraction")]
        assert len(rows[0].samples) >= 3


def test_record_when_the_config_says_so(in_tmp: Path) -> None:
    config = validate_config({"bench": {"record": True}})
    report = run_memory_benchmarks(config, quick=True, only=["cache_get_latency_us"])
    run_id = record_benchmarks(report, str(in_tmp / "history.db"))
    assert run_id >= 1


def test_suite_check_adapter() -> None:
    config = validate_config({"bench": {"thresholds": {"cache_hit_rate": 0.99}}})
    ctx = types.SimpleNamespace(config=config, level="quick")
    component = types.SimpleNamespace(name="blocks", options={})
    spec = types.SimpleNamespace(name="memory_benchmarks", options={"only": ["cache_hit_rate"]})
    outcome = memory_benchmarks_check(component, spec, ctx)
    assert outcome.status == "fail"
    assert outcome.check == "memory_benchmarks"
    assert set(outcome.metrics) == {"cache_hit_rate"}
    assert outcome.units == {"cache_hit_rate": "fraction"}
    assert "cache_hit_rate" in outcome.details
    assert outcome.document is not None
    assert outcome.document["kind"] == "bench_report"


def test_a_bad_database_is_refused_before_the_run(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (in_tmp / "history.db").write_bytes(b"garbage" * 1000)
    rc = main(["bench", "--quick", "--only", "cache_hit_rate", "--record"])
    captured = capsys.readouterr()
    assert rc == 2
    assert captured.out == ""  # nothing ran
    assert captured.err.strip().splitlines() == [
        f"memwatch: error: {in_tmp / 'history.db'}: not a memwatch history database "
        "(corrupt or foreign: file is not a database)"
    ]


def test_record_goes_where_history_reads(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """$MEMWATCH_DB wins over store.url of the config, as for `memwatch history`."""
    (in_tmp / "memwatch.yaml").write_text(f"store:\n  url: {in_tmp / 'config.db'}\n")
    assert main(["bench", "--quick", "--only", "cache_hit_rate", "--record"]) == 0
    capsys.readouterr()
    assert (in_tmp / "history.db").exists()
    assert not (in_tmp / "config.db").exists()
    assert main(["history", TEST_ID, "--metric", "cache_hit_rate", "--json"]) == 0


def test_gc_pauses_are_measured_when_automatic_collection_is_off() -> None:
    """gc.set_threshold(0) (automatic collection off, a common tuning) gave no pause at all:
    both GC benchmarks FAILed with nan and recording them raised UsageError."""
    import gc

    before = gc.get_threshold()
    gc.set_threshold(0)
    try:
        report = run_memory_benchmarks(quick=True, only=["gc_pause_avg_ms"])
        assert gc.get_threshold()[0] == 0  # the caller's setting is given back
    finally:
        gc.set_threshold(*before)
    (metric,) = report.metrics
    assert metric.samples
    assert math.isfinite(metric.value)


def test_a_benchmark_without_a_finite_figure_is_left_out_of_the_record(in_tmp: Path) -> None:
    from dataclasses import replace

    from memwatch.store import open_store

    report = run_memory_benchmarks(quick=True, only=["cache_hit_rate", "cache_get_latency_us"])
    broken = replace(report.metrics[0], value=math.nan, samples=())
    report = replace(report, metrics=(broken, report.metrics[1]))
    run_id = record_benchmarks(report, str(in_tmp / "history.db"))
    with open_store(str(in_tmp / "history.db")) as store:
        assert [r.metric for r in store.results(run_id)] == [report.metrics[1].name]


def _hit_rate_baseline(db: Path, value: float) -> None:
    from memwatch.store import open_store

    with open_store(str(db)) as store:
        store.set_baseline(TEST_ID, "cache_hit_rate", "fraction", [value] * 4, source="test")


def test_record_compares_with_the_baselines(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The hit rate workload is seeded (0.73 on every machine): a baseline of 0.95 makes it a
    regression (higher is better), one of 0.5 an improvement that moves the baseline."""
    from memwatch.store import open_store

    args = ["bench", "--quick", "--only", "cache_hit_rate", "--record"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "cache_hit_rate: no baseline yet, this run's is now" in out
    assert main(args) == 0
    assert "higher is better: unchanged" in capsys.readouterr().out

    _hit_rate_baseline(in_tmp / "history.db", 0.95)
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert (
        "0.733 fraction now, 0.95 in the baseline (-22.9%, threshold 15%), higher is better: regressed" in out
    )
    assert err.strip().splitlines()[-1] == (
        "memwatch: 1 benchmark(s) regressed against their baselines: cache_hit_rate"
    )

    _hit_rate_baseline(in_tmp / "history.db", 0.5)
    assert main(args) == 0
    assert "higher is better: improved, baseline moved" in capsys.readouterr().out
    with open_store(str(in_tmp / "history.db"), read_only=True) as store:
        baseline = store.baseline(TEST_ID, "cache_hit_rate")
        assert baseline is not None
        assert 0.7 < baseline.value < 0.76


def test_record_uses_the_configs_per_metric_threshold(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / "memwatch.yaml").write_text("regression:\n  thresholds:\n    cache_hit_rate: 30%\n")
    _hit_rate_baseline(in_tmp / "history.db", 0.95)  # 23 % above today's: within 30 %
    assert main(["bench", "--quick", "--only", "cache_hit_rate", "--record"]) == 0
    assert "(-22.9%, threshold 30%), higher is better: unchanged" in capsys.readouterr().out


def _saved(path: Path, samples: dict[str, tuple[float, ...]]) -> str:
    """A benchmark report of this machine with the given samples per benchmark, saved at ``path``."""
    import dataclasses

    from memwatch.model.base import write_document

    report = run_memory_benchmarks(quick=True, only=["cache_hit_rate"])
    template = report.metrics[0]
    metrics = tuple(
        dataclasses.replace(
            template, name=name, unit=unit, value=sorted(values)[len(values) // 2], samples=values
        )
        for name, (unit, values) in {
            "allocation_rate": ("objects/s", samples["allocation_rate"]),
            "gc_pause_avg_ms": ("ms", samples["gc_pause_avg_ms"]),
        }.items()
    )
    write_document(dataclasses.replace(report, metrics=metrics), path)
    return str(path)


def test_compare_two_saved_benchmark_reports(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rate = (2.0e6, 2.1e6, 1.9e6, 2.05e6, 1.95e6, 2.0e6, 2.02e6)
    pause = (1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0)
    b1 = _saved(in_tmp / "b1.json", {"allocation_rate": rate, "gc_pause_avg_ms": pause})
    # half the allocation rate (higher is better: a regression), half the pauses (an improvement)
    b2 = _saved(
        in_tmp / "b2.json",
        {"allocation_rate": tuple(v / 2 for v in rate), "gc_pause_avg_ms": tuple(v / 2 for v in pause)},
    )
    assert main(["compare", b1, b2]) == 0  # a comparison is a report
    out = capsys.readouterr().out
    lines = {line.split()[1]: line.split() for line in out.splitlines()[1:3]}
    rate_row, pause_row = lines["allocation_rate"], lines["gc_pause_avg_ms"]
    assert rate_row[2:7] + rate_row[8:] == [
        "higher",
        "2,000,000",
        "1,000,000",
        "-50.0%",
        "5%",
        "regressed",
        "(critical)",
    ]
    assert pause_row[2:7] + pause_row[8:] == ["lower", "1", "0.5", "-50.0%", "5%", "improved"]
    assert float(rate_row[7]) < 0.01  # Mann-Whitney, 7 samples a side that do not overlap
    assert out.splitlines()[-1] == "regression check FAILED: 1 regressed, 1 improved"

    assert main(["compare", b1, b2, "--fail-on-regression"]) == 1
    assert capsys.readouterr().err == "memwatch: regressed: allocation_rate\n"
    assert main(["compare", b2, b1, "--fail-on-regression"]) == 1  # the other way: the pauses doubled
    assert capsys.readouterr().err == "memwatch: regressed: gc_pause_avg_ms\n"
    assert main(["compare", b1, b1, "--fail-on-regression"]) == 0


def test_compare_refuses_a_benchmark_against_another_kind(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from memwatch.model.base import write_document
    from memwatch.model.regression import RegressionReport

    b1 = _saved(in_tmp / "b1.json", {"allocation_rate": (1.0, 2.0, 3.0), "gc_pause_avg_ms": (1.0, 1.1)})
    write_document(RegressionReport(env_key="x", checks=()), in_tmp / "check.json")
    assert main(["compare", b1, "check.json"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"memwatch: error: cannot compare {b1} (bench_report) with check.json (regression_report): compare "
        "takes two saved runs (memwatch run -o) or two saved benchmark reports (memwatch bench --json)\n"
    )
