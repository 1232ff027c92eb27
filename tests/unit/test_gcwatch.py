"""Reports, thresholds, validation and advice built from synthetic event streams (no real GC)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from memwatch.errors import CheckFailed, ConfigError, DataError, UsageError
from memwatch.gcwatch.advisor import advise
from memwatch.gcwatch.optimizer import GCOptimizer
from memwatch.gcwatch.report import collector_kind, report_from_events
from memwatch.gcwatch.validator import GCPerformanceValidator, GCThresholds
from memwatch.model.base import dump_document, load_document, read_document, write_document
from memwatch.model.gc import GCReport
from tests.unit.test_gcstats import collection


def young_heavy(n: int = 200, pause_ms: float = 0.5, collected: int = 100) -> list[tuple[object, ...]]:
    events: list[tuple[object, ...]] = []
    for i in range(n):
        events += collection(i * 2.0, pause_ms, 0, young=701, collected=collected)
    return events


def test_report_from_a_known_stream() -> None:
    events = (
        collection(0, 1.0, 0, collected=10)
        + collection(10, 3.0, 0, collected=30)
        + collection(20, 4.0, 1, collected=40)
        + collection(50, 90.0, 2, collected=900, forced=True)
    )
    report = report_from_events(events, wall_ms=1000.0, operations=50, tracked_objects=1_000_000)
    assert report.collections == 4
    assert (report.automatic, report.forced) == (3, 1)
    assert report.generations["gen0"].collections == 2
    assert report.generations["gen2"].forced == 1
    assert report.pauses["gen0"].total_ms == pytest.approx(4.0)
    assert report.pauses["gen0"].share == pytest.approx(0.004)
    assert report.pauses["all"].max_ms == pytest.approx(90.0)
    assert report.pauses["gen2"].p99_ms == pytest.approx(90.0)
    assert report.collected == 980
    assert report.efficiency == pytest.approx(980 / 98.0)
    assert report.collections_per_operation == pytest.approx(4 / 50)
    assert report.events.start_ms.tolist() == pytest.approx([0.0, 10.0, 20.0, 50.0])
    assert report.efficiency_bytes is None


def test_no_operations_means_no_collections_per_operation() -> None:
    assert report_from_events(young_heavy(3), wall_ms=10.0).collections_per_operation is None


def test_json_round_trip_of_a_report(tmp_path: Path) -> None:
    report = report_from_events(
        young_heavy(20) + collection(100, 12.0, 2, collected=5, traced=(900, 100)),
        wall_ms=200.0,
        operations=7,
        garbage=(2, {"Node": 2}),
        component="x",
    )
    again = load_document(json.loads(json.dumps(dump_document(report))), expected=GCReport)
    assert again == report
    assert again.to_dict() == report.to_dict()
    path = write_document(report, tmp_path / "gc.json")
    loaded = read_document(path, expected=GCReport)
    assert loaded == report
    assert loaded.uncollectable.types == {"Node": 2}
    assert math.isnan(loaded.events.freed_bytes[0])
    assert loaded.events.freed_bytes[-1] == 800.0


def test_corrupt_report_file_is_a_data_error(tmp_path: Path) -> None:
    doc = dump_document(report_from_events(young_heavy(2), wall_ms=5.0))
    del doc["data"]["pauses"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match="missing field 'pauses'"):
        read_document(path, expected=GCReport)


def test_summary_names_pauses_per_generation_and_the_interpreter() -> None:
    text = report_from_events(young_heavy(5), wall_ms=100.0, operations=5, component="handler").summary()
    assert text.startswith("handler: 5 collections (5 automatic, 0 forced)")
    assert "gen0: 5 pauses, total 2.50 ms (2.50% of wall)" in text
    assert "1.0000 collections per operation (5 operations)" in text
    assert "gen2:" not in text  # no full collection, no line for it


@pytest.mark.parametrize(
    ("version", "kind"),
    [
        ((3, 11, 7), "generational"),
        ((3, 13, 1), "generational"),
        ((3, 14, 0), "incremental"),
        ((3, 14, 4), "incremental"),
        ((3, 14, 5), "generational"),
        ((3, 15, 0), "generational"),
    ],
)
def test_collector_kind_by_version(version: tuple[int, int, int], kind: str) -> None:
    assert collector_kind(version).startswith(kind)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_pause_p95_ms": -1.0}, "must not be negative"),
        ({"max_pause_ms": -0.5}, "must not be negative"),
        (
            {"max_pause_p95_ms": 200.0, "max_pause_ms": 100.0},
            "max_pause_p95_ms=200 is above max_pause_ms=100",
        ),
        ({"max_pause_p95_ms": 50.0, "max_pause_p99_ms": 20.0}, "is above max_pause_p99_ms=20"),
        ({"max_time_share": 5.0}, "must lie in"),
        ({"max_pause_p95_ms": float("nan")}, "not a finite number"),
        ({"max_uncollectable": True}, "not a finite number"),
    ],
)
def test_nonsense_thresholds_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        GCThresholds(**kwargs)  # type: ignore[arg-type]


def test_thresholds_from_a_mapping_refuse_unknown_keys() -> None:
    assert GCPerformanceValidator({"max_pause_ms": 150}).thresholds.max_pause_ms == 150
    with pytest.raises(ConfigError, match=r"unknown GC threshold.*max_pause_p95"):
        GCPerformanceValidator({"max_pause_p95": 10})
    with pytest.raises(ConfigError, match="must be GCThresholds or a mapping"):
        GCPerformanceValidator(42)  # type: ignore[arg-type]


def test_validation_lists_every_check_and_raises_on_failure() -> None:
    events = young_heavy(99, pause_ms=1.0) + collection(500, 150.0, 2)
    report = report_from_events(events, wall_ms=1000.0, operations=10, component="api")
    ok = GCPerformanceValidator().validate_gc_efficiency(report)
    assert ok.passed  # p95 of 99 x 1 ms and one 150 ms pause is 1 ms: under the 100 ms default
    assert [c.name for c in ok.checks] == ["pause_p95", "uncollectable"]
    ok.raise_for_failures()
    strict = GCPerformanceValidator(
        GCThresholds(max_pause_ms=100.0, max_time_share=0.1, max_collections_per_operation=5.0)
    )
    verdict = strict.validate_gc_efficiency(report)
    assert not verdict.passed
    assert {c.name for c in verdict.failures} == {"pause_max", "time_share", "collections_per_operation"}
    with pytest.raises(CheckFailed, match=r"api: longest pause 150\.000 ms, limit 100 ms"):
        verdict.raise_for_failures()


def test_garbage_growth_fails_the_uncollectable_check() -> None:
    report = report_from_events(young_heavy(2), wall_ms=10.0, garbage=(3, {"Thing": 3}))
    verdict = GCPerformanceValidator().validate_gc_efficiency(report)
    assert [c.name for c in verdict.failures] == ["uncollectable"]


def test_advisor_finds_the_freeze_case() -> None:
    # one 90 ms full collection with a million long-lived objects and nothing frozen
    report = report_from_events(
        collection(0, 90.0, 2, forced=True), wall_ms=1000.0, tracked_objects=1_000_000
    )
    advice = advise(report)
    assert advice.freeze
    (rec,) = advice.recommendations
    assert rec.action == "freeze"
    assert "paused up to 90.0 ms" in rec.reason
    assert "1,000,000 objects were tracked (about 90 ns per object)" in rec.reason
    assert "gc.freeze()" in advice.summary()
    assert GCOptimizer.advise(report) == advice


def test_advisor_does_not_refreeze_and_ignores_small_heaps() -> None:
    frozen = report_from_events(
        collection(0, 50.0, 2), wall_ms=100.0, tracked_objects=2_000_000, frozen_objects=1_500_000
    )
    advice = advise(frozen)
    assert not advice.freeze
    assert "already frozen" in advice.recommendations[0].reason
    small = report_from_events(collection(0, 50.0, 2), wall_ms=10_000.0, tracked_objects=5_000)
    assert [r.action for r in advise(small).recommendations] == ["keep"]


def test_advisor_raises_threshold0_when_young_collections_cost_time() -> None:
    # 200 x 0.5 ms young pauses in 400 ms: 25% of wall time; 600 of 701 objects survive each
    report = report_from_events(young_heavy(200, collected=101), wall_ms=400.0, thresholds=(700, 10, 10))
    advice = advise(report)
    rec = advice.recommendations[0]
    assert rec.action == "raise_threshold0"
    assert advice.thresholds == (7000, 10, 10)
    assert "25.0% of wall time" in rec.reason
    assert "about 86%" in rec.reason
    some_survive = advise(report_from_events(young_heavy(200, collected=526), wall_ms=400.0))  # 25% survive
    assert some_survive.thresholds == (2800, 10, 10)
    assert [r.action for r in some_survive.recommendations] == ["raise_threshold0", "avoid_cycles"]
    mostly_dead = advise(report_from_events(young_heavy(200, collected=700), wall_ms=400.0))
    assert mostly_dead.thresholds is None
    (rec,) = mostly_dead.recommendations
    assert rec.action == "avoid_cycles"
    assert "freed about 100% of the objects they examined" in rec.reason


def test_advisor_keeps_a_cheap_collector_and_flags_uncollectable() -> None:
    cheap = report_from_events(young_heavy(3, pause_ms=0.01), wall_ms=1000.0)
    assert [r.action for r in advise(cheap).recommendations] == ["keep"]
    leaky = report_from_events(young_heavy(3, pause_ms=0.01), wall_ms=1000.0, garbage=(4, {"Legacy": 4}))
    assert [r.action for r in advise(leaky).recommendations] == ["fix_uncollectable"]


@pytest.mark.parametrize("thresholds", [(-1, 10, 10), (700, 10, 10, 10), (), ("700",), (1.5,)])
def test_optimizer_refuses_bad_thresholds(thresholds: tuple[object, ...]) -> None:
    with pytest.raises(ConfigError):
        GCOptimizer(thresholds)  # type: ignore[arg-type]


def test_optimizer_stop_without_start_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="without start"):
        GCOptimizer((1000,)).stop()


def test_a_saved_schema_1_report_still_loads() -> None:
    # tests/unit/data/gc_report_v1.json was written by this version; a later change to
    # GCReport must keep reading it (or bump the schema version and add a reader).
    report = read_document(Path(__file__).parent / "data" / "gc_report_v1.json", expected=GCReport)
    assert report.component == "fixture"
    assert report.interpreter.version == "3.11.7"
    assert (report.collections, report.automatic, report.forced) == (4, 3, 1)
    assert report.pauses["gen2"].max_ms == pytest.approx(90.0)
    assert report.collections_per_operation == pytest.approx(0.08)
    assert report.uncollectable.types == {"Legacy": 1}
    assert report.events.freed_bytes[-1] == 4000.0
    assert report.latency is not None
    assert report.latency.p50_cost_ms == pytest.approx(8.0)
    assert report.latency.calls_with_gc == 1
