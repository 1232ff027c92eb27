"""LeakReport: severity, budget, explanation, raise_for_leaks and the JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from memwatch.config.schema import SeverityBytes
from memwatch.errors import LeakDetected
from memwatch.model.base import dump_document, load_document, read_document, write_document
from memwatch.model.leaks import (
    GrowthEstimate,
    LeakReport,
    RetainedSite,
    RetentionPath,
    Survivor,
    TypeGrowth,
    severity_for,
)

#: the schema's severity thresholds (5 / 20 / 50 MB per 1,000 calls)
DEFAULTS = SeverityBytes().model_dump()


def estimate(signal: str = "py_blocks", decided: bool = True, per: float = 2.0) -> GrowthEstimate:
    return GrowthEstimate(
        signal=signal,
        unit="count" if signal == "py_blocks" else "bytes",
        per_iteration=per,
        low=per * 0.9,
        high=per * 1.1,
        p_value=1e-5,
        shape="growing" if decided else "flat",
        significant=decided,
        persistent=decided,
        decided=decided,
        note="decided the verdict" if decided else "flat: no rise",
        samples=np.array([10.0, 12.0, 14.0, float("nan")]),
    )


def report(
    *,
    leak: bool = True,
    bytes_per_iteration: float = 2000.0,
    max_growth: int = 1_000_000,
    verdict: str = "",
    max_growth_text: str = "",
) -> LeakReport:
    return LeakReport(
        target="app.handlers:handle",
        verdict=verdict or ("leak" if leak else "clean"),  # type: ignore[arg-type]
        reason="py_blocks grew on every one of 4 stretches" if leak else "no signal grew",
        leak_detected=leak,
        severity=severity_for(leak, bytes_per_iteration * 1000, DEFAULTS),
        kind="python" if leak else "none",
        deciding_signal="py_blocks" if leak else "",
        signals=(estimate(), estimate("native_heap", decided=False, per=0.0)),
        bytes_per_iteration=bytes_per_iteration if leak else 0.0,
        bytes_low=bytes_per_iteration * 0.9 if leak else 0.0,
        bytes_high=bytes_per_iteration * 1.1 if leak else 0.0,
        max_growth=max_growth,
        iterations=800,
        warmup_iterations=300,
        rounds=8,
        batch_size=100,
        duration=0.12,
        seconds_per_call=2e-6,
        sites=(RetainedSite("app/cache.py:42", 2000.0, 1.0, ("app/cache.py:42", "app/h.py:7")),),
        types=(TypeGrowth("app.Session", 1.0, 0, 100),),
        retention_paths=(
            RetentionPath(
                "app.Session", "module", ("module app.cache._STORE", "dict['u42']", "list[3]", "Session")
            ),
        ),
        notes=("a note",),
        max_growth_text=max_growth_text,
    )


@pytest.mark.parametrize(
    ("leak", "per_1000", "expected"),
    [
        (False, 1e9, "none"),
        (True, 0.0, "trace"),
        (True, 4_999_999, "trace"),
        (True, 5_000_000, "minor"),
        (True, 20_000_000, "major"),
        (True, 50_000_000, "critical"),
    ],
)
def test_severity_defaults(leak: bool, per_1000: float, expected: str) -> None:
    assert severity_for(leak, per_1000, DEFAULTS) == expected


def test_severity_thresholds_are_configurable() -> None:
    assert severity_for(True, 2_000, {**DEFAULTS, "minor": 1_000}) == "minor"


@pytest.mark.parametrize(
    ("verdict", "passed", "failed"),
    [("leak", False, True), ("growth", True, False), ("clean", True, False), ("inconclusive", False, False)],
)
def test_the_verdict_alone_says_passed_and_failed(verdict: str, passed: bool, failed: bool) -> None:
    rep = report(verdict=verdict, leak=verdict in ("leak", "growth"))
    assert (rep.passed, rep.failed) == (passed, failed)
    if failed:
        with pytest.raises(LeakDetected) as info:
            rep.raise_for_leaks()
        assert info.value.report is rep
        assert "module app.cache._STORE -> dict['u42'] -> list[3] -> Session" in str(info.value)
        assert str(info.value).startswith("LEAK (trace, python) in app.handlers:handle")
    else:
        rep.raise_for_leaks()


def test_projection_per_1000_calls() -> None:
    assert report(bytes_per_iteration=2000.0).projected_per_1000 == pytest.approx(2_000_000)
    assert report(leak=False).projected_per_1000 == 0.0


def test_explain_names_signals_sites_types_and_paths() -> None:
    text = report().explain()
    assert text.startswith("LEAK (trace, python) in app.handlers:handle")
    assert "decided by py_blocks" in text
    assert "* py_blocks: +2 blocks per call" in text
    assert "flat: no rise" in text
    assert "app/cache.py:42" in text
    assert "app.Session: +1" in text
    assert "kept alive by:" in text
    assert "note: a note" in text
    assert report(leak=False).explain().startswith("no leak in app.handlers:handle")
    assert "LEAK" not in report(verdict="growth", bytes_per_iteration=100.0).explain()


def test_growth_per_iteration_and_why_not() -> None:
    rep = report()
    assert set(rep.growth_per_iteration) == {"py_blocks", "native_heap"}
    assert rep.growth_per_iteration["py_blocks"].per_iteration == 2.0
    assert rep.why_not == {"native_heap": "flat: no rise"}


def test_json_round_trip(tmp_path) -> None:
    rep = report()
    doc = json.loads(json.dumps(dump_document(rep), allow_nan=False))
    assert doc["kind"] == "leak_report"
    again = load_document(doc, expected=LeakReport)
    assert again == rep
    assert np.isnan(again.signals[0].samples[-1])
    path = write_document(rep, tmp_path / "leak.json")
    assert read_document(path, expected=LeakReport) == rep


def test_survivor_text() -> None:
    path = RetentionPath("app.Req", "module", ("module app._KEEP", "list[0]", "Req"))
    assert str(Survivor("request", "app.Req", path)) == (
        "request (app.Req) is still alive: module app._KEEP -> list[0] -> Req"
    )
    assert "no referrer found" in str(Survivor("x", "app.Req"))
