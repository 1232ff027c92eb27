"""Open the HTML report in real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from memwatch.model.base import atomic_write_text
from tests.unit.test_reporters_suite import EVIL, report

CHROMIUM = os.environ.get("MEMWATCH_TEST_CHROMIUM") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else "")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM, reason="headless Chromium is not installed "
                       "(scripts/browser.sh installs Debian's chromium)"),
]

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_report_renders_tables_and_charts_without_console_errors(tmp_path: Path) -> None:
    from memwatch.reporters.html import render_html

    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is a test dependency")
    page_path = atomic_write_text(tmp_path / "report.html", render_html(report()))
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS,
                                     chromium_sandbox=False)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: problems.append(f"network: {r.url}")
                    if not r.url.startswith("file://") else None)
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
