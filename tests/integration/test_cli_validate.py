"""`memwatch validate` on the bundled example app and on broken configs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from memwatch.cli import main
from memwatch.model.base import read_document
from memwatch.model.suite import SuiteReport

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLES / "app", tmp_path / "app")
    config = (EXAMPLES / "memwatch.yaml").read_text().replace("../reports/memory_validation", "reports")
    (tmp_path / "memwatch.yaml").write_text(config)
    return tmp_path / "memwatch.yaml"


def test_quick_level_on_the_example_app(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = example.parent / "history.db"
    code = main(["validate", "--config", str(example), "--level", "quick", "--db", str(db)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASSED at level quick" in out
    reports = example.parent / "reports"
    files = sorted(p.suffix for p in reports.glob("quick_*") if p.is_file())
    assert files == [".html", ".json", ".md", ".xml"]
    # document 000's names beside them: the page, and one summary per check that ran
    seed = sorted(p.name.rsplit("_", 2)[0] for p in reports.iterdir() if not p.name.startswith("quick_"))
    assert seed == ["leak_detection_report", "memory_validation_quick", "performance_regression_report"]
    leak_md = next(reports.glob("leak_detection_report_*.md")).read_text()
    assert "| audit | leaks | ⚠️ warn | trace |" in leak_md
    assert "| regression |" not in leak_md  # only its own category
    regression_md = next(reports.glob("performance_regression_report_*.md")).read_text()
    assert "| sessions | regression |" in regression_md
    assert "| leaks |" not in regression_md
    report = read_document(next(reports.glob("quick_*.json")), expected=SuiteReport)
    by = {(o.component, o.check): o for o in report.outcomes}
    assert by[("audit", "leaks")].status == "warn"  # the example's small, real leak
    assert by[("audit", "leaks")].severity == "trace"
    for name in ("sessions", "reports", "session-store"):
        assert by[(name, "leaks")].status == "pass", by[(name, "leaks")].summary
    assert by[("sessions", "regression")].baseline_updated  # first run sets the baseline
    assert report.run_id == 1
    per_check = next(p for p in reports.iterdir() if p.is_dir())
    leak_doc = json.loads((per_check / "audit.leaks.json").read_text())
    assert leak_doc["kind"] == "leak_report"


def test_second_run_compares_with_the_baseline(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = example.parent / "history.db"
    args = ["validate", "--config", str(example), "--db", str(db)]
    cfg = example.read_text().replace("  - name: reports\n    operation: app.reports:render\n", "")
    cfg = cfg.replace("  - name: audit\n    operation: app.audit:record_event\n", "")
    example.write_text(cfg)
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "peak unchanged" in out
    assert "recorded as run 2" in out


def test_a_gate_naming_no_measured_metric_is_an_error(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example.write_text(
        "components:\n  - name: r\n    operation: app.sessions:handle_request\n"
        "    checks: [regression]\nchecks:\n  regression:\n    gates: ['peek:10%']\n"
    )
    code = main(["validate", "--config", str(example), "--db", str(example.parent / "h.db")])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "gate peek:10% names no metric of this check" in " ".join(out.split())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "components:\n  - name: a\n    operation: app.nope:f\n",
            "component 'a': cannot import module 'app.nope'",
        ),
        ("components:\n  - name: a\n    operation: app.reports:nothing\n", "has no attribute 'nothing'"),
        (
            "components:\n  - name: a\n    operation: app.reports:render\nchecks:\n  leakz: {}\n",
            "checks.leakz: unknown check",
        ),
        ("leaks:\n  max_growth: 12 XB\ncomponents: []\n", ":2: leaks.max_growth: invalid size '12 XB'"),
        ("components: [\n", "invalid YAML"),
        ("level: quick\n", "no components to validate"),
    ],
)
def test_bad_configs_exit_2_with_one_line_and_write_nothing(
    example: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    example.write_text(text)
    code = main(["validate", "--config", str(example), "--no-db"])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (example.parent / "reports").exists()
    assert not (example.parent / "reports_memory_validation").exists()


def test_unwritable_report_dir(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = example.parent / "file"
    blocker.write_text("x")
    cfg = example.read_text()
    example.write_text(
        cfg[: cfg.index("components:")] + "components:\n  - name: r\n"
        "    operation: app.reports:render\n    checks: [leaks]\n"
    )
    code = main(["validate", "--config", str(example), "--no-db", "--report-dir", str(blocker / "sub")])
    assert code == 2
    assert "cannot create report folder" in capsys.readouterr().err
