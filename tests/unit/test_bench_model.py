"""memwatch.model.bench (the bench_report document) and the pure parts of memwatch.benchset."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from memwatch.benchset.runner import BENCHMARKS, _p99, resolve_thresholds
from memwatch.config.schema import validate_config
from memwatch.errors import CheckFailed, ConfigError, DataError
from memwatch.model.base import dump_document, load_document, read_document, write_document
from memwatch.model.bench import BenchMachine, BenchMetric, BenchReport

MACHINE = BenchMachine(
    host="box",
    system="linux",
    release="6.1",
    machine="x86_64",
    cpu="Test CPU",
    cpu_count=2,
    python="3.11.7",
    implementation="cpython",
    memory_total=8 * 2**30,
    memory_limit=4 * 2**30,
    memory_limit_source="cgroup.v2.max",
    load_1m=0.5,
)


def metric(name: str, value: float, threshold: float, direction: Any = "min") -> BenchMetric:
    passed = value >= threshold if direction == "min" else value <= threshold
    return BenchMetric(
        name=name,
        value=value,
        unit="x",
        threshold=threshold,
        direction=direction,
        passed=passed,
        samples=(value, value * 1.1),
        description="d",
    )


def report(*metrics: BenchMetric) -> BenchReport:
    return BenchReport(
        started_at=1_790_000_000.0,
        duration=1.5,
        quick=True,
        machine=MACHINE,
        metrics=metrics,
        config_source="memwatch.yaml",
    )


class TestReport:
    def test_json_round_trip(self, tmp_path: Path) -> None:
        original = report(
            metric("pool_rate", 4e5, 1e5),
            metric("gc_pause_p99_ms", 3.5, 50, "max"),
            metric("memory_bandwidth", math.nan, 1.0),
        )
        doc = dump_document(original)
        assert doc["kind"] == "bench_report"
        again: BenchReport = load_document(json.loads(json.dumps(doc)))
        assert again.to_dict() == original.to_dict()  # NaN != NaN, so compare the encoding
        assert again.metrics[:2] == original.metrics[:2]
        path = write_document(original, tmp_path / "bench.json")
        again = read_document(path, expected=BenchReport)
        assert again.metrics[:2] == original.metrics[:2]
        assert math.isnan(again.metrics[2].value)
        assert again.machine == MACHINE

    def test_verdicts(self) -> None:
        r = report(metric("a", 2, 1), metric("b", 2, 1, "max"), metric("c", 1, 1))
        assert [m.verdict for m in r.metrics] == ["PASS", "FAIL", "PASS"]
        assert not r.passed
        assert [m.name for m in r.failures] == ["b"]
        assert r.metric("c").value == 1
        with pytest.raises(KeyError, match="no benchmark 'zz'"):
            r.metric("zz")

    def test_raise_for_failures(self) -> None:
        report(metric("a", 2, 1)).raise_for_failures()
        with pytest.raises(CheckFailed, match=r"1 memory benchmark\(s\) failed: b 2 x"):
            report(metric("a", 2, 1), metric("b", 2, 1, "max")).raise_for_failures()

    def test_summary_names_the_machine_and_each_verdict(self) -> None:
        text = report(
            metric("pool_rate", 412006.4, 100000),
            metric("gc_pause_avg_ms", 0.2251, 5, "max"),
            metric("memory_bandwidth", math.nan, 1.0),
        ).summary()
        lines = text.splitlines()
        assert lines[0] == (
            "memory benchmarks on box (linux x86_64, 2 CPUs, Test CPU; cpython 3.11.7) [quick]"
        )
        assert lines[1] == "memory 8.0 GiB, limit 4.0 GiB from cgroup.v2.max, load 0.50"
        assert lines[2].split() == ["pool_rate", "412,006", "x", "(>=", "100,000)", "PASS"]
        assert lines[3].split() == ["gc_pause_avg_ms", "0.225", "x", "(<=", "5)", "PASS"]
        assert lines[4].split()[1] == "nan"
        assert lines[4].endswith("FAIL")
        assert lines[-1] == "2 passed, 1 failed in 1.5 s"

    def test_missing_field_is_a_data_error(self) -> None:
        doc = dump_document(report(metric("a", 1, 1)))
        del doc["data"]["machine"]
        with pytest.raises(DataError, match="missing field 'machine'"):
            load_document(doc)


class TestThresholds:
    def test_defaults(self) -> None:
        thresholds = resolve_thresholds()
        assert set(thresholds) == {b.name for b in BENCHMARKS}
        assert thresholds["cache_get_latency_us"] == 1.0

    def test_config_overrides(self) -> None:
        config = validate_config(
            {"bench": {"thresholds": {"pool_rate": 5, "gc_pause_p99_ms": 2.5}, "record": True}}
        )
        thresholds = resolve_thresholds(config)
        assert (thresholds["pool_rate"], thresholds["gc_pause_p99_ms"]) == (5.0, 2.5)
        assert resolve_thresholds({"thresholds": {"cache_hit_rate": 0.9}})["cache_hit_rate"] == 0.9

    @pytest.mark.parametrize(
        ("section", "message"),
        [
            ({"thresholds": {"pool_speed": 1}}, r"bench.thresholds.pool_speed: unknown benchmark \(known: "),
            ({"thresholds": {"pool_rate": -1}}, "bench.thresholds.pool_rate: expected a number >= 0"),
            ({"thresholds": {"pool_rate": "fast"}}, "expected a number >= 0, got 'fast'"),
            ({"thresholds": {"pool_rate": math.inf}}, "expected a number >= 0"),
            ({"thresholds": {"pool_rate": True}}, "expected a number >= 0"),
            ({"thresholds": [1, 2]}, "bench.thresholds: expected a mapping"),
            ({"threshold": {}}, r"bench.threshold: unknown key \(known: record, thresholds\)"),
            ({"record": "yes"}, "bench.record: expected true or false"),
        ],
    )
    def test_bad_sections(self, section: dict[str, Any], message: str) -> None:
        with pytest.raises(ConfigError, match=message):
            resolve_thresholds(section)

    def test_config_source_is_named(self) -> None:
        config = validate_config({"bench": {"thresholds": {"nope": 1}}}, source="memwatch.yaml")
        with pytest.raises(ConfigError, match=r"^memwatch.yaml: bench.thresholds.nope"):
            resolve_thresholds(config)

    def test_bad_config_type(self) -> None:
        with pytest.raises(ConfigError, match="config must be a memwatch Config"):
            resolve_thresholds(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ([], math.nan),
        ([5.0], 5.0),
        (list(range(101)), 99.0),
        ([1.0, 2.0], 1.99),
    ],
)
def test_p99(samples: list[float], expected: float) -> None:
    got = _p99(samples)
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected)


def test_only_names_are_checked() -> None:
    from memwatch.benchset.runner import run_memory_benchmarks

    with pytest.raises(ConfigError, match=r"unknown benchmark 'speed' \(known: allocation_rate"):
        run_memory_benchmarks(only=["speed"])


@pytest.mark.parametrize("only", [5, {"cache_hit_rate": 1}, [5]])
def test_only_of_the_wrong_type_is_a_config_error(only: Any) -> None:
    """`checks: {bench: {only: 5}}` in memwatch.yaml crashed the suite check with a TypeError."""
    from memwatch.benchset.runner import run_memory_benchmarks

    with pytest.raises(ConfigError, match=r"^only: expected a benchmark name|^unknown benchmark 5 "):
        run_memory_benchmarks(only=only)
