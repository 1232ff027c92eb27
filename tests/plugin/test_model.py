"""The pytest records' JSON round trip and the pieces that need no pytest run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memwatch.errors import UsageError
from memwatch.model.base import dump_document, load_document, read_document, write_document
from memwatch.model.pytest import AllocationSite, CheckOutcome, ItemRecord, PytestSession
from memwatch.model.timeline import RunResult, Timeline
from memwatch.plugin.checks import LimitResult
from memwatch.plugin.markers import level_skip_reason
from memwatch.plugin.options import check_report_dir
from memwatch.plugin.report import markdown


def _session() -> PytestSession:
    timeline = Timeline(
        t=np.array([0.0, 0.01]), signals={"rss": np.array([1e6, 2e6])}, units={"rss": "bytes"}
    )
    profile = RunResult(
        timeline=timeline,
        phase_stats=(),
        primary_signal="rss",
        peak=2e6,
        start_memory=1e6,
        end_memory=2e6,
        growth=1e6,
        duration=0.01,
    )
    failed = CheckOutcome("limit_memory", False, 1_000_000, 5e6, "over | budget", "5 MB of 1 MB")
    return PytestSession(
        started_at=1.0,
        duration=2.0,
        level="quick",
        workers=2,
        args=("--memwatch",),
        tests=(
            ItemRecord(
                "t.py::test_a[x|y]",
                "failed",
                0.5,
                10,
                5_000_000,
                1000,
                "VmHWM",
                markers=("limit_memory",),
                checks=(failed,),
                sites=(AllocationSite("t.py:3", 4_000_000, 4),),
                worker="gw0",
                profile=profile.to_dict(),
            ),
            ItemRecord("t.py::test_b", peak=None, growth=None),
        ),
    )


def test_session_json_round_trip(tmp_path: Path) -> None:
    session = _session()
    assert load_document(dump_document(session), expected=PytestSession) == session
    path = write_document(session, tmp_path / "s.json")
    again = read_document(path, expected=PytestSession)
    assert again == session
    assert again.record("t.py::test_a[x|y]").failed_checks[0].measured == 5e6
    assert again.tests[0].profile_result == session.tests[0].profile_result
    assert again.tests[1].profile_result is None
    with pytest.raises(KeyError, match=r"no record for 't\.py::nope'"):
        again.record("t.py::nope")


def test_markdown_escapes_table_cells() -> None:
    text = markdown(_session())
    assert "| `t.py::test_a[x\\|y]` | failed | 4.8 MiB | +1000 B |" in text
    assert "2 tests measured, level `quick`; 1 failed a memory check." in text
    assert "over | budget" in text  # inside the fenced block: left as is


@pytest.mark.parametrize(
    ("markers", "level", "reason"),
    [
        ((), "quick", ""),
        (("memory", "memory_gc"), "quick", ""),
        (
            ("memory_long",),
            "comprehensive",
            "@pytest.mark.memory_long runs at --memwatch-level nightly (this run: comprehensive)",
        ),
        (("memory_long",), "nightly", ""),
        (
            ("stress",),
            "quick",
            "@pytest.mark.stress runs at --memwatch-level comprehensive and nightly (this run: quick)",
        ),
        (("oom",), "comprehensive", ""),
    ],
)
def test_level_table(markers: tuple[str, ...], level: str, reason: str) -> None:
    assert level_skip_reason(markers, level) == reason


def test_limit_result_text() -> None:
    result = LimitResult("limit_memory", 1_000_000, 3_000_000, "VmHWM")
    assert not result.passed
    assert result.failure_text().splitlines() == [
        "@pytest.mark.limit_memory: the test body's peak RSS exceeded its limit",
        "  limit:    1.0 MB = 976.6 KiB (1,000,000 bytes)",
        "  measured: 3.0 MB = 2.9 MiB (3,000,000 bytes) above the RSS at the start of the body (VmHWM), "
        "2.0 MB = 1.9 MiB over",
        "  (run with --memwatch-tracemalloc to see the biggest allocation sites)",
    ]
    outcome = LimitResult("limit_memory", 1_000_000, 999_999).outcome()
    assert outcome.passed
    assert outcome.message == ""


def test_report_dir_checks(tmp_path: Path) -> None:
    assert check_report_dir("a/b", tmp_path) == tmp_path / "a" / "b"
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is not a folder"):
        check_report_dir("file", tmp_path)
