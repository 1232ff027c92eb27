"""stress_report and pressure_test documents: JSON round trip, dict-style access, bad files."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from memwatch.errors import DataError
from memwatch.model.base import dump_document, load_document, read_document, write_document
from memwatch.model.stress import (
    ChildOutcome,
    LoadTrial,
    PressureCycle,
    PressureTestResult,
    ScenarioResult,
    StressCheck,
    StressReport,
    StressSample,
)


def outcome(**kw: object) -> ChildOutcome:
    base: dict[str, Any] = {
        "exit": "signal",
        "exit_code": None,
        "signal": 9,
        "wall_time": 1.5,
        "peak_rss": 2e8,
        "cap": 2**28,
        "cap_method": "rlimit",
        "error": "killed by SIGKILL",
        "events": 3,
    }
    base.update(kw)
    return ChildOutcome(**base)


def report() -> StressReport:
    ramp = ScenarioResult(
        "ramp",
        True,
        (StressCheck("breaking point", "pass", 250, 1000, "<=", "fits at 248", "load"),),
        {"breaking_point": 250.0, "last_ok": 248.0, "peak_rss_last_ok": math.nan},
        trials=(LoadTrial(128, True, 1.4e8, 0.2), LoadTrial(256, False, 3e7, 0.1, "MemoryError")),
        children=(outcome(), outcome(exit="exited", exit_code=0, signal=None, completed=True)),
        params={"start": "1"},
    )
    spike = ScenarioResult(
        "spike",
        False,
        (StressCheck("python heap recovery", "fail", 0.5, 0.95, ">", unit="ratio"),),
        {"heap_recovery": 0.5},
        samples=(StressSample(0.1, 3e7, 1e6, 2e6, 1e5, "baseline"), StressSample(0.2, 1.3e8, label="peak")),
        notes=("a note",),
    )
    return StressReport("pkg.mod:func", 2**28, "rlimit", (ramp, spike), 1.7e9, 3.5, "host", "3.11.9", "Linux")


def test_stress_report_round_trips_through_json(tmp_path: Path) -> None:
    original = report()
    text = json.dumps(dump_document(original), allow_nan=False)
    again = load_document(json.loads(text), expected=StressReport)
    assert again.to_dict() == original.to_dict()
    assert math.isnan(again.scenarios[0].metrics["peak_rss_last_ok"])
    assert math.isnan(again.scenarios[1].samples[1].heap)
    path = write_document(original, tmp_path / "stress.json")
    assert json.loads(path.read_text())["kind"] == "stress_report"
    assert read_document(path, expected=StressReport).to_dict() == original.to_dict()


def test_report_verdicts_and_lookup() -> None:
    rep = report()
    assert rep.passed is False
    assert rep.scenario("spike").failed_checks[0].name == "python heap recovery"
    with pytest.raises(KeyError, match="ramp"):
        rep.scenario("soak")


def test_pressure_result_round_trip_and_seed_style_indexing() -> None:
    result = PressureTestResult(
        True,
        512_000_000,
        0.875,
        (PressureCycle(64_000_000, 0, 3e7, 9e7, 3e7),),
        2**28,
        "rlimit",
        outcome(exit="exited", exit_code=0, signal=None),
    )
    again = load_document(dump_document(result), expected=PressureTestResult)
    assert again == result
    assert again["breaking_point_reached"] is True
    assert again["stability_score"] == 0.875
    with pytest.raises(KeyError):
        again["nope"]


def test_wrong_kind_and_corrupt_field_are_data_errors() -> None:
    doc = dump_document(report())
    with pytest.raises(DataError, match="expected 'pressure_test'"):
        load_document(doc, expected=PressureTestResult)
    doc["data"]["scenarios"][0]["passed"] = "yes"
    with pytest.raises(DataError, match="passed"):
        load_document(doc, expected=StressReport)


@pytest.mark.parametrize(
    ("rate", "hourly", "passed", "inconclusive"),
    [
        ("inconclusive", "inconclusive", False, True),  # no evidence either way: no pass
        ("inconclusive", "not-judged", False, True),
        ("pass", "inconclusive", True, False),  # one deciding check passed
        ("fail", "inconclusive", False, False),  # a failure is a failure
    ],
)
def test_a_soak_without_evidence_is_inconclusive_not_passed(
    rate: str, hourly: str, passed: bool, inconclusive: bool
) -> None:
    from memwatch.stress.verdicts import require_evidence

    checks = (
        StressCheck("growth rate", rate, 1e5, 1e6, "<", unit="bytes/s"),  # type: ignore[arg-type]
        StressCheck("growth per hour", hourly, 4e8, 1e8, "<", unit="bytes/h"),  # type: ignore[arg-type]
        StressCheck("stable within band", "pass", 0.02, 0.1, "<=", unit="ratio"),
    )
    result = ScenarioResult(
        "soak",
        rate != "fail",
        checks,
        {},
        children=(outcome(exit="exited", exit_code=0, signal=None, completed=True),),
    )
    judged = require_evidence(result, ("growth rate", "growth per hour"), "run longer")
    assert judged.passed is passed
    assert judged.inconclusive is inconclusive
    assert (judged.notes == ("inconclusive: run longer",)) is inconclusive
