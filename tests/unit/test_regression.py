"""Regression checks on synthetic samples: severity, gates, environments, improvements."""

from __future__ import annotations

import pytest

from memwatch.config.schema import RegressionConfig, validate_config
from memwatch.errors import CheckFailed, ConfigError
from memwatch.model.base import dump_document, load_document
from memwatch.model.history import Baseline, ResultRow
from memwatch.model.regression import RegressionReport
from memwatch.regression.check import check_regressions, environment_differences, is_leak_metric, severity_of

MB = 1_000_000
ENV = {
    "implementation": "cpython",
    "python": "3.11.7",
    "python_minor": "3.11",
    "system": "linux",
    "machine": "x86_64",
    "cpu": "AMD EPYC",
    "memory_limit": 8 * 10**9,
    "packages": {"numpy": "2.4.6"},
}
KEY = "cpython3.11-linux-x86_64"
BASE = (100 * MB, 101 * MB, 99 * MB, 100 * MB, 102 * MB, 98 * MB)


def scaled(factor: float, samples: tuple[int, ...] = BASE) -> tuple[float, ...]:
    return tuple(v * factor for v in samples)


def base(
    test: str = "t",
    metric: str = "peak",
    samples: tuple[float, ...] = BASE,
    key: str = KEY,
    env: dict[str, object] | None = None,
) -> Baseline:
    return Baseline(test, metric, "bytes", samples, key, dict(env or ENV), run_id=1, source="run 1")


def check(
    current: tuple[float, ...],
    baselines: list[Baseline],
    *,
    metric: str = "peak",
    gates: tuple[str, ...] = (),
    config: RegressionConfig | None = None,
    env: dict[str, object] | None = None,
) -> RegressionReport:
    return check_regressions(
        [ResultRow("t", metric, "bytes", current)],
        baselines,
        env_key=KEY,
        env=env or ENV,
        gates=gates,
        config=config,
        run_id=7,
    )


@pytest.mark.parametrize(
    ("factor", "status", "severity"),
    [
        (1.05, "unchanged", "none"),
        (1.20, "regressed", "minor"),
        (1.35, "regressed", "major"),
        (1.60, "regressed", "critical"),
        (0.70, "improved", "none"),
    ],
)
def test_percent_severities(factor: float, status: str, severity: str) -> None:
    (c,) = check(scaled(factor), [base()]).checks
    assert (c.status, c.severity) == (status, severity)
    assert c.relative == pytest.approx(factor - 1, abs=0.02)
    assert c.baseline_run == 1


def test_only_critical_regressions_fail_by_default() -> None:
    assert not check(scaled(1.35), [base()]).failed
    report = check(scaled(1.60), [base()])
    assert report.failed
    assert report.worst_severity == "critical"
    with pytest.raises(CheckFailed, match="t peak: critical regression"):
        report.raise_for_regressions()
    check(scaled(1.35), [base()]).raise_for_regressions()  # does not raise


def test_noisy_samples_are_not_a_regression_even_when_the_median_moved() -> None:
    noisy_base = (50 * MB, 300 * MB, 90 * MB, 250 * MB, 100 * MB, 400 * MB)
    noisy_cur = (80 * MB, 420 * MB, 120 * MB, 330 * MB, 260 * MB, 300 * MB)
    (c,) = check(noisy_cur, [base(samples=noisy_base)]).checks
    assert c.status == "unchanged"
    assert c.relative is not None
    assert c.relative > 0.5
    assert "not significant" in c.reason


def test_absolute_floor_protects_tiny_metrics() -> None:
    small = (100_000.0, 100_000.0, 100_000.0)
    (c,) = check((200_000.0, 200_000.0, 200_000.0), [base(samples=small)]).checks
    assert c.status == "unchanged"
    assert "absolute floor" in c.reason


def test_percent_gate_is_tighter_than_minor_and_fails_the_run() -> None:
    report = check(scaled(1.12), [base()], gates=("peak:10%",))
    (c,) = report.checks
    assert (c.status, c.severity, c.gates_failed) == ("regressed", "minor", ("peak:10%",))
    assert report.failed
    assert report.gates == ("peak:10%",)
    assert not check(scaled(1.05), [base()], gates=("peak:10%",)).failed


def test_gates_from_config_and_on_other_metrics() -> None:
    cfg = RegressionConfig(fail_on=("peak:10%",))
    assert check(scaled(1.12), [base()], config=cfg).failed
    report = check(scaled(1.12), [base()], gates=("rss:10%",))
    assert not report.failed
    assert report.unmatched_gates == ("rss:10%",)  # it checked nothing, and the report says so
    assert report.summary().endswith(
        "; gate rss:10% matched no metric of this run (peak) and checked nothing"
    )
    assert check(scaled(1.12), [base()], gates=("peak:10%",)).unmatched_gates == ()


def test_absolute_gate_on_growth_and_leak_severity_in_bytes() -> None:
    grow_base = (0.0, 10_000.0, 5_000.0, 0.0, 2_000.0)
    grown = (3 * MB, 3.1 * MB, 2.9 * MB, 3 * MB, 3.05 * MB)
    report = check(grown, [base(metric="growth", samples=grow_base)], metric="growth", gates=("growth:1MiB",))
    (c,) = report.checks
    assert c.gates_failed == ("growth:1.0 MiB",)
    # 3 MB is below the minor leak threshold (5 MB); the gate's lower floor makes it count (as minor).
    assert (c.status, c.severity) == ("regressed", "minor")
    assert report.failed
    (c,) = check(grown, [base(metric="growth", samples=grow_base)], metric="growth").checks
    assert c.status == "unchanged"
    assert "absolute floor" in c.reason
    big = tuple(v + 25 * MB for v in grown)
    (c,) = check(big, [base(metric="growth", samples=grow_base)], metric="growth").checks
    assert (c.status, c.severity) == ("regressed", "major")


@pytest.mark.parametrize(
    ("metric", "leak"),
    [("growth", True), ("growth_per_1k", True), ("leak_rate", True), ("peak", False), ("rss", False)],
)
def test_is_leak_metric(metric: str, leak: bool) -> None:
    assert is_leak_metric(metric) is leak


def test_severity_of_thresholds_from_config() -> None:
    cfg = validate_config(
        {
            "regression": {
                "severity": {"minor": "5%", "major": 10, "critical": "20%"},
                "leak_severity": {"minor": "1 MB", "major": "2 MB", "critical": "3 MB"},
            }
        }
    ).regression
    assert severity_of("peak", 0.0, 0.07, cfg) == "minor"
    assert severity_of("peak", 0.0, 0.12, cfg) == "major"
    assert severity_of("peak", 0.0, 0.25, cfg) == "critical"
    assert severity_of("growth", 2.5 * MB, None, cfg) == "major"
    assert severity_of("growth", 3 * MB, 9.0, cfg) == "critical"


def test_baseline_from_another_environment_is_skipped_with_the_reason() -> None:
    other_env = {**ENV, "python": "3.12.1", "python_minor": "3.12"}
    (c,) = check(scaled(2.0), [base(key="cpython3.12-linux-x86_64", env=other_env)]).checks
    assert c.status == "skipped"
    assert "cpython3.12-linux-x86_64" in c.reason
    assert "python 3.12.1 vs 3.11.7" in c.reason
    assert KEY in c.reason


def test_same_key_but_other_cpu_or_packages_is_used_with_warnings() -> None:
    moved = {**ENV, "cpu": "Intel Xeon", "packages": {"numpy": "2.3.0"}}
    (c,) = check(scaled(1.6), [base(env=moved)]).checks
    assert c.status == "regressed"
    assert any("cpu Intel Xeon vs AMD EPYC" in w for w in c.warnings)
    assert any("numpy 2.3.0 vs 2.4.6" in w for w in c.warnings)


def test_the_matching_environment_is_chosen_among_several() -> None:
    other = base(samples=scaled(0.1), key="cpython3.12-linux-x86_64")
    (c,) = check(scaled(1.0), [other, base()]).checks
    assert c.status == "unchanged"
    assert c.baseline_env == KEY


def test_no_baseline_is_new_and_unit_mismatch_is_skipped() -> None:
    (c,) = check(scaled(1.0), []).checks
    assert (c.status, c.reason) == ("new", "no baseline yet")
    counted = Baseline("t", "peak", "count", BASE, KEY, ENV)
    (c,) = check(scaled(1.0), [counted]).checks
    assert c.status == "skipped"
    assert "unit" in c.reason


def test_improvement_marks_the_baseline_for_update_only_when_configured() -> None:
    (c,) = check(scaled(0.5), [base()]).checks
    assert (c.status, c.update_baseline) == ("improved", True)
    cfg = RegressionConfig(auto_update_baselines=False)
    (c,) = check(scaled(0.5), [base()], config=cfg).checks
    assert (c.status, c.update_baseline) == ("improved", False)


def test_bad_gate_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="invalid gate 'peak'"):
        check(scaled(1.0), [base()], gates=("peak",))


def test_report_json_round_trip_and_summary() -> None:
    report = check(scaled(1.6), [base()], gates=("peak:10%",))
    again = load_document(dump_document(report), expected=RegressionReport)
    assert again == report
    assert report.summary() == "regression check FAILED: 1 regressed"


def test_environment_differences() -> None:
    assert environment_differences(ENV, ENV) == []
    assert environment_differences(ENV, None) == []
    assert environment_differences(ENV, {**ENV, "machine": "aarch64"}) == ["machine x86_64 vs aarch64"]


V1_REPORT = """{"memwatch_schema": 1, "kind": "regression_report", "data": {
 "env_key": "cpython3.11-linux-x86_64", "run_id": 12, "gates": ["peak:10%"], "alpha": 0.05,
 "thresholds": {"minor": 15.0, "major": 30.0, "critical": 50.0},
 "leak_thresholds": {"minor": 5000000.0, "major": 20000000.0, "critical": 50000000.0},
 "checks": [{"test_id": "tests/test_api.py::test_upload", "metric": "peak", "unit": "bytes",
   "status": "regressed", "severity": "major", "current": [67108864.0], "baseline": [50331648.0],
   "current_value": 67108864.0, "baseline_value": 50331648.0, "delta": 16777216.0,
   "relative": 0.3333, "p_value": null, "ci_low": null, "ci_high": null,
   "significance": "not applicable", "gates_failed": ["peak:10%"],
   "reason": "peak went up +16.0 MiB (+33.3%)", "warnings": [], "baseline_env": "cpython3.11-linux-x86_64",
   "baseline_run": 8, "baseline_source": "run 8", "update_baseline": false, "baseline_updated": false}]}}"""


def test_version_1_report_document_still_loads() -> None:
    import json

    report = load_document(json.loads(V1_REPORT), expected=RegressionReport)
    assert report.failed
    assert report.checks[0].gates_failed == ("peak:10%",)
    assert report.summary() == "regression check FAILED: 1 regressed"


def test_reasons_of_large_counts_read_as_numbers_not_exponents() -> None:
    """A rate metric such as objects/s used to read "went down -1e+06 objects/s"."""
    rate = (2_000_000.0, 2_010_000.0, 1_990_000.0, 2_005_000.0, 1_995_000.0)
    baseline = Baseline("bench", "allocation_rate", "objects/s", rate, KEY, dict(ENV), run_id=1)
    report = check_regressions(
        [ResultRow("bench", "allocation_rate", "objects/s", tuple(v / 2 for v in rate))],
        [baseline],
        env_key=KEY,
        env=ENV,
        run_id=7,
    )
    (c,) = report.checks
    assert c.reason == "allocation_rate went down -1,000,000 objects/s (-50.0%)"
