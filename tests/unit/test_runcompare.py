from __future__ import annotations

import json

import pytest

from memwatch.errors import ConfigError, UsageError
from memwatch.model.base import dump_document, load_document
from memwatch.model.timeline import ComparisonResult
from memwatch.runs.compare import compare_runs, metric_delta
from tests.unit.runs_factory import MIB, job_run, make_run


@pytest.mark.parametrize(
    ("before", "after", "verdict", "percent"),
    [
        (100.0, 100.0, "unchanged", 0.0),
        (100.0, 104.0, "unchanged", 4.0),  # within 5%
        (100.0, 110.0, "regressed", 10.0),
        (100.0, 80.0, "improved", -20.0),
        (0.0, 50.0, "regressed", None),  # no percentage of zero
    ],
)
def test_metric_delta_verdicts(before: float, after: float, verdict: str, percent: float | None) -> None:
    d = metric_delta("peak", "bytes", before, after, tolerance=0.05, floor=0.0)
    assert d.verdict == verdict
    assert d.delta == after - before
    assert d.percent == (None if percent is None else pytest.approx(percent))


def test_noise_floor_keeps_small_changes_unchanged() -> None:
    d = metric_delta("growth", "bytes", 1000.0, 500_000.0, tolerance=0.05, floor=2**20)
    assert d.verdict == "unchanged"


def test_identical_runs_change_nothing() -> None:
    result = compare_runs(job_run(), job_run())
    assert result.regressions == []
    assert all(d.verdict == "unchanged" for d in result.overall)
    assert [(p.name, p.occurrence) for p in result.phases] == [("load", 1), ("transform", 1), ("release", 1)]


def test_bigger_run_regresses_overall_and_per_phase() -> None:
    result = compare_runs(job_run(), job_run(scale=1.5), before_label="a.json", after_label="b.json")
    overall = {d.metric: d for d in result.overall}
    assert overall["peak"].delta == 50 * MIB
    assert overall["peak"].percent == pytest.approx(50.0)
    assert overall["peak"].verdict == "regressed"
    assert overall["growth"].delta == 5 * MIB
    assert overall["duration"].verdict == "unchanged"
    assert "peak" in result.regressions
    assert "transform#1.peak" in result.regressions
    assert "load#1.change" in result.regressions
    assert result.before_label == "a.json"


def test_smaller_run_is_an_improvement() -> None:
    result = compare_runs(job_run(scale=2.0), job_run())
    assert {d.metric: d.verdict for d in result.overall}["peak"] == "improved"
    assert {d.metric: d.verdict for d in result.overall}["growth"] == "improved"
    # lower is better for every metric: a release phase that frees less (-80 instead
    # of -160 MiB) is named as a regression
    assert result.regressions == ["release#1.change"]


def test_phases_matched_by_name_and_occurrence() -> None:
    twice = make_run([10, 50, 10, 80, 10], phases=[("load", 0.0, 0.15, 0), ("load", 0.2, 0.35, 0)])
    once = make_run([10, 50, 10, 10, 10], phases=[("load", 0.0, 0.15, 0), ("save", 0.2, 0.35, 0)])
    result = compare_runs(twice, once)
    keyed = {(p.name, p.occurrence): p for p in result.phases}
    assert keyed[("load", 1)].only_in == "both"
    assert all(d.verdict == "unchanged" for d in keyed[("load", 1)].deltas)
    assert keyed[("load", 2)].only_in == "before"
    assert keyed[("save", 1)].only_in == "after"


def test_different_signals_and_bad_tolerance() -> None:
    from dataclasses import replace

    other = replace(job_run(), primary_signal="vms")
    with pytest.raises(UsageError, match="different signals"):
        compare_runs(job_run(), other)
    with pytest.raises(ConfigError, match="invalid tolerance"):
        compare_runs(job_run(), job_run(), tolerance=-1)


def test_comparison_json_round_trip() -> None:
    result = compare_runs(job_run(), job_run(scale=1.5))
    doc = json.loads(json.dumps(dump_document(result)))
    back = load_document(doc, expected=ComparisonResult)
    assert back == result
    assert back.regressions == result.regressions
