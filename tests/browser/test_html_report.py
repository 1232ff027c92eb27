"""Open the HTML report in real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from memwatch.model.base import atomic_write_text
from tests.unit.test_reporters_suite import EVIL, report

CHROMIUM = os.environ.get("MEMWATCH_TEST_CHROMIUM") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else ""
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM,
        reason="headless Chromium is not installed (scripts/browser.sh installs Debian's chromium)",
    ),
]

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_report_renders_tables_and_charts_without_console_errors(tmp_path: Path) -> None:
    from memwatch.reporters.html import render_html

    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is a test dependency")
    page_path = atomic_write_text(tmp_path / "report.html", render_html(report()))
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, chromium_sandbox=False)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "request",
                lambda r: problems.append(f"network: {r.url}") if not r.url.startswith("file://") else None,
            )
            page.goto(page_path.as_uri())
            assert page.locator("#results tbody tr").count() == 5
            assert page.locator("svg.chart polyline").count() == 2
            assert page.locator("#verdict").inner_text().startswith("FAILED at level quick")
            # the hostile test id is shown as text, not executed
            assert EVIL in page.locator("#results").inner_text()
            box = page.locator("svg.chart").first.bounding_box()
            assert box is not None
            assert box["width"] > 300
            assert box["height"] > 100
            shot = os.environ.get("MEMWATCH_SCREENSHOT_DIR")
            page.screenshot(path=str(Path(shot or tmp_path) / "html-report.png"), full_page=True)
            assert problems == []
        finally:
            browser.close()


def _pytest_session() -> Any:
    import numpy as np

    from memwatch.model.pytest import CheckOutcome, ItemRecord, PytestSession
    from memwatch.model.timeline import Phase, PhaseStats, RunResult, Timeline

    t = np.linspace(0.0, 0.5, 60)
    rss = 50e6 + 30e6 * np.minimum(t / 0.3, 1.0)
    timeline = Timeline(
        t=t,
        signals={"rss": rss},
        units={"rss": "bytes"},
        phases=(Phase("load", 0.0, 0.3), Phase("aggregate", 0.3, 0.5)),
    )
    profile = RunResult(
        timeline=timeline,
        phase_stats=(
            PhaseStats("load", 0.0, 0.3, 0.3, 50e6, 80e6, 80e6, 30e6, 30e6, 36),
            PhaseStats("aggregate", 0.3, 0.5, 0.2, 80e6, 80e6, 80e6, 0.0, 0.0, 24),
        ),
        primary_signal="rss",
        peak=80e6,
        start_memory=50e6,
        end_memory=80e6,
        growth=30e6,
        duration=0.5,
    )
    over = CheckOutcome(
        "limit_memory",
        False,
        64_000_000,
        119e6,
        "@pytest.mark.limit_memory: the test body's peak RSS exceeded its limit\n"
        "  limit:    64.0 MB\n  measured: 119.8 MB",
    )
    tests = (
        ItemRecord(
            "test_service.py::test_import_big_file",
            "failed",
            0.24,
            60_000_000,
            119_771_136,
            56_000,
            "VmHWM",
            markers=("limit_memory",),
            checks=(over,),
        ),
        ItemRecord(
            "test_service.py::test_pipeline",
            "passed",
            0.5,
            50_000_000,
            30_000_000,
            30_000_000,
            "VmHWM",
            profile=profile.to_dict(),
        ),
        ItemRecord(f"test_service.py::test_x[{EVIL}]", "passed", 0.001, 50_000_000, 4096, 0, "VmHWM"),
    )
    return PytestSession(
        started_at=1_763_700_000.0,
        duration=4.1,
        tests=tests,
        exit_status=1,
        args=("--memwatch", "--memwatch-report", "reports"),
        python="3.11.7",
        platform="Linux",
        host="ci",
        rootdir="/src",
    )


def test_pytest_session_page_renders_without_console_errors(tmp_path: Path) -> None:
    from memwatch.reporters.html import render_html

    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is a test dependency")
    page_path = atomic_write_text(tmp_path / "memwatch-pytest.html", render_html(_pytest_session()))
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, chromium_sandbox=False)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(page_path.as_uri())
            assert page.locator("#results tbody tr").count() == 3
            assert page.locator("#verdict").inner_text() == "3 tests measured, 1 failed a memory check"
            first = page.locator("#results tbody tr").first.inner_text()
            assert "test_import_big_file" in first  # the biggest peak first
            assert "114.2 MiB" in first
            assert page.locator("svg.chart polyline").count() == 1  # test_pipeline's profile
            assert EVIL in page.locator("#results").inner_text()
            assert "exceeded its limit" in page.locator("section.check").first.inner_text()
            shot = os.environ.get("MEMWATCH_SCREENSHOT_DIR")
            page.screenshot(path=str(Path(shot or tmp_path) / "pytest-report.png"), full_page=True)
            assert problems == []
        finally:
            browser.close()
