"""Regression by direction: lower-is-better and higher-is-better metrics, per-metric thresholds."""

from __future__ import annotations

import pytest

from memwatch.config.options import regression_thresholds
from memwatch.config.schema import Config, RegressionConfig, validate_config
from memwatch.errors import ConfigError
from memwatch.model.history import Baseline, ResultRow
from memwatch.model.regression import MetricCheck
from memwatch.regression.check import check_regressions
from memwatch.regression.metrics import DIRECTIONS, direction_of, regressed_when

KEY = "cpython3.12-linux-x86_64"
RATE = (1000.0, 1010.0, 990.0, 1005.0, 995.0, 1002.0, 998.0)


def one(
    metric: str,
    unit: str,
    baseline: tuple[float, ...],
    current: tuple[float, ...],
    *,
    config: RegressionConfig | None = None,
    gates: tuple[str, ...] = (),
) -> MetricCheck:
    report = check_regressions(
        [ResultRow("t", metric, unit, current)],
        [Baseline("t", metric, unit, baseline, KEY, {}, 1, "run 1")],
        env_key=KEY,
        config=config,
        gates=gates,
    )
    (found,) = report.checks
    return found


@pytest.mark.parametrize(
    ("metric", "better"),
    [
        ("peak", "lower"),
        ("growth", "lower"),
        ("gc_pause_avg_ms", "lower"),
        ("duration", "lower"),
        ("time_per_op", "lower"),
        ("ops_per_second", "higher"),
        ("cache_hit_rate", "higher"),
        ("reclaimed_fraction", "higher"),
        ("allocation_rate", "higher"),
        ("memory_bandwidth", "higher"),
        # not in the table: by their words
        ("requests_per_second", "higher"),
        ("l2_hit_ratio", "higher"),
        ("growth_rate", "lower"),  # leak growth stays lower-is-better whatever its suffix
        ("startup_ms", "lower"),
    ],
)
def test_direction_of(metric: str, better: str) -> None:
    assert direction_of(metric) == better
    assert regressed_when(metric) == ("increase" if better == "lower" else "decrease")


def test_the_bench_set_thresholds_agree_with_the_direction_table() -> None:
    from memwatch.benchset.runner import BENCHMARKS

    for spec in BENCHMARKS:
        assert spec.name in DIRECTIONS
        assert direction_of(spec.name) == ("higher" if spec.direction == "min" else "lower"), spec.name


def test_a_higher_is_better_metric_regresses_when_it_drops() -> None:
    dropped = one("ops_per_second", "ops/s", RATE, tuple(v * 0.7 for v in RATE))
    assert (dropped.status, dropped.better, dropped.severity) == ("regressed", "higher", "major")
    assert dropped.relative == pytest.approx(-0.3)
    halved = one("ops_per_second", "ops/s", RATE, tuple(v * 0.5 for v in RATE))
    assert (halved.severity, halved.failed) == ("critical", True)
    assert dropped.reason.startswith("ops_per_second went down")
    rose = one("ops_per_second", "ops/s", RATE, tuple(v * 1.4 for v in RATE))
    assert (rose.status, rose.update_baseline) == ("improved", True)


def test_a_lower_is_better_metric_regresses_when_it_rises() -> None:
    pauses = (2.0, 2.1, 1.9, 2.0, 2.05, 1.95, 2.0)
    worse = one("gc_pause_avg_ms", "ms", pauses, tuple(v * 1.4 for v in pauses))
    assert (worse.status, worse.better, worse.severity) == ("regressed", "lower", "major")
    better = one("gc_pause_avg_ms", "ms", pauses, tuple(v * 0.5 for v in pauses))
    assert better.status == "improved"


def test_hit_rate_and_reclaimed_fraction_regress_when_they_fall() -> None:
    rates = (0.9, 0.91, 0.89, 0.9, 0.905, 0.895)
    assert one("cache_hit_rate", "fraction", rates, tuple(v * 0.8 for v in rates)).status == "regressed"
    assert one("reclaimed_fraction", "fraction", rates, tuple(v * 0.8 for v in rates)).status == "regressed"
    assert one("reclaimed_fraction", "fraction", rates, tuple(v * 1.1 for v in rates)).status == "unchanged"


def test_per_metric_percent_thresholds_from_the_config() -> None:
    ten_percent_slower = tuple(v * 0.88 for v in RATE)  # 12 % fewer operations per second
    assert one("ops_per_second", "ops/s", RATE, ten_percent_slower).status == "unchanged"  # 15 % default
    cfg = RegressionConfig(thresholds={"ops_per_second": 10})
    found = one("ops_per_second", "ops/s", RATE, ten_percent_slower, config=cfg)
    assert (found.status, found.threshold, found.severity) == ("regressed", 10.0, "minor")
    assert one("peak", "ops/s", RATE, tuple(v * 1.12 for v in RATE), config=cfg).threshold == 15.0


def test_a_gate_on_a_higher_is_better_metric_fails_on_a_drop_only() -> None:
    gate = ("ops_per_second:5%",)
    drop = one("ops_per_second", "ops/s", RATE, tuple(v * 0.9 for v in RATE), gates=gate)
    assert (drop.gates_failed, drop.failed, drop.threshold) == (gate, True, 5.0)
    rise = one("ops_per_second", "ops/s", RATE, tuple(v * 1.2 for v in RATE), gates=gate)
    assert (rise.gates_failed, rise.failed, rise.status) == ((), False, "improved")


def test_the_resolver_merges_layers_metric_by_metric() -> None:
    config = validate_config({"regression": {"thresholds": {"peak": "12%", "ops_per_second": 10}}})
    found = regression_thresholds({"peak": 5}, {"peak": 8, "growth": 3}, config)
    assert found.per_metric == {"peak": 5.0, "ops_per_second": 10.0, "growth": 3.0}
    assert found.percent_for("duration") == 15.0
    assert regression_thresholds(config=Config()).per_metric == {}
    assert regression_thresholds(config=config.regression).percent_for("ops_per_second") == 10.0


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ({"peak": -1}, "must be a finite number >= 0"),
        ({"peak": "ten"}, "invalid percentage"),
        ({"peak per second": 5}, "is not a metric name"),
    ],
)
def test_bad_thresholds_in_the_config_are_refused(thresholds: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate_config({"regression": {"thresholds": thresholds}})


def test_bad_thresholds_from_a_door_are_refused() -> None:
    with pytest.raises(ConfigError, match="invalid percentage"):
        regression_thresholds({"peak": "lots"})
    with pytest.raises(ConfigError, match="must map a metric to a percent"):
        regression_thresholds(["peak:10%"])  # type: ignore[arg-type]
