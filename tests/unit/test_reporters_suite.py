"""HTML, JUnit, Markdown and SVG views of a validation report: content and escaping."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from memwatch.model.suite import Chart, CheckOutcome, SuiteReport
from memwatch.reporters.html import render_html
from memwatch.reporters.junit import render_junit
from memwatch.reporters.svg import render_chart
from memwatch.reporters.validation import render_markdown, render_text

EVIL = '<script>alert("x")</script>'


def report() -> SuiteReport:
    chart = Chart(
        title=f"growth {EVIL}",
        x=(0.0, 1.0, 2.0, 3.0),
        series={"py_blocks": (0.0, 10.0, 20.0, 30.0), "rss": (0.0, 5.0, float("nan"), 9.0)},
        unit="count",
        x_label="round",
        markers=((1.0, "warm"),),
    )
    return SuiteReport(
        level="quick",
        started_at=1_700_000_000.0,
        duration=2.5,
        config_source="memwatch.yaml",
        outcomes=(
            CheckOutcome("sessions", "leaks", "pass", "none", summary="no leak"),
            CheckOutcome(
                f"tests/{EVIL}::t",
                "leaks",
                "fail",
                "critical",
                summary=f"LEAK in {EVIL}",
                details=f"module app._STORE -> list -> {EVIL}",
                metrics={"bytes_per_1000_calls": 6.4e7, "iterations": 300.0},
                units={"bytes_per_1000_calls": "bytes", "iterations": "count"},
                charts=(chart,),
            ),
            CheckOutcome("audit", "gc", "warn", "minor", summary="p95 | 120 ms"),
            CheckOutcome(
                "x", "regression", "error", summary="the operation raised: boom", details="Traceback ..."
            ),
            CheckOutcome("y", "stress", "skipped", summary="engine unavailable"),
        ),
        exit_code=1,
        environment={"python": "3.11.7", "host": "ci-1"},
    )


def test_html_escapes_every_name_and_message() -> None:
    page = render_html(report())
    assert EVIL not in page
    assert "&lt;script&gt;alert(" in page
    assert "<script" not in page.lower()
    assert "FAILED at level quick: 1 pass, 1 warn, 1 fail, 1 error, 1 skipped" in page
    assert page.count("<svg") == 1
    assert "61.0 MiB" in page  # 6.4e7 bytes, formatted
    assert "https://" not in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_svg_chart_skips_nan_and_marks() -> None:
    svg = render_chart(report().outcomes[1].charts[0])
    assert svg.startswith("<svg")
    assert svg.endswith("</svg>")
    assert svg.count("<polyline") == 2
    assert "nan" not in svg.lower()
    assert "&lt;script&gt;" in svg
    assert 'class="mark"' in svg
    empty = render_chart(Chart(title="t", x=(), series={}))
    assert "no data" in empty


def test_junit_structure_and_properties() -> None:
    root = ET.fromstring(render_junit(report()))
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "5",
        "1",
        "1",
        "1",
    )
    cases = suite.findall("testcase")
    failing = cases[1]
    assert failing.get("classname") == f"memwatch.tests/{EVIL}::t"
    failure = failing.find("failure")
    assert failure is not None
    assert failure.get("type") == "critical"
    props = {p.get("name"): p.get("value") for p in failing.iter("property")}
    assert props["bytes_per_1000_calls[bytes]"] == "64000000.0"
    assert props["severity"] == "critical"
    assert cases[3].find("error") is not None
    assert cases[4].find("skipped") is not None
    assert "WARNING (minor)" in (cases[2].findtext("system-out") or "")


def test_markdown_lists_every_outcome_and_escapes_pipes() -> None:
    md = render_markdown(report())
    assert md.startswith("## memwatch validation — quick")
    assert md.count("\n| ") == 6  # header + 5 rows
    assert "p95 \\| 120 ms" in md
    assert "### ❌ tests/" in md
    assert "- bytes_per_1000_calls: 61.0 MiB" in md


def test_text_summary() -> None:
    text = render_text(report())
    assert text.splitlines()[0].startswith("PASS ")
    assert text.splitlines()[-1].startswith("FAILED at level quick")


def test_axis_ticks_are_round_in_the_unit_shown() -> None:
    from memwatch.reporters.svg import _axis

    assert _axis(0, 0, "bytes") == (-1024.0, 1024.0, [-1024.0, -512.0, 0.0, 512.0, 1024.0])
    lo, hi, ticks = _axis(3.2e6, 9.7e6, "bytes")
    assert ticks == [2 * 2**20 * k for k in range(1, 6)]
    assert lo <= 3.2e6
    assert hi >= 9.7e6
    assert _axis(-5, 30, "count")[2] == [-10.0, 0.0, 10.0, 20.0, 30.0]
