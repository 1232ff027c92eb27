"""The line profile's HTML page in real headless Chromium: rows, the strip, no errors, no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from memwatch.model.base import atomic_write_text
from memwatch.model.lines import FunctionLines, LineProfile, LineStat
from tests.browser.test_html_report import CHROMIUM, FLAGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM, reason="headless Chromium is not installed (scripts/browser.sh)"),
]

EVIL = "<img src=x onerror=alert(1)>"


def _profile() -> LineProfile:
    lines = (
        LineStat(lineno=3, source="def load(n):", hits=1, increment=400, peak=500),
        LineStat(
            lineno=4,
            source="    rows = build(n)",
            hits=1,
            increment=30 * 2**20,
            peak=30 * 2**20,
            kept=30 * 2**20,
            blocks=9,
        ),
        LineStat(lineno=5, source=f"    note = '{EVIL}'", hits=2, increment=-(2**20), peak=256, shared=1),
        LineStat(lineno=6, source="    # never ran"),
    )
    function = FunctionLines(
        name="load", qualname="load", filename="/x/job.py", first_line=3, calls=1, lines=lines
    )
    return LineProfile(functions=(function,), duration=1.5, command=("job.py",), exit_code=0)


def test_lines_page_renders_without_errors(tmp_path: Path) -> None:
    from memwatch.reporters.lines import render_lines_html

    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is a test dependency")
    page_path = atomic_write_text(tmp_path / "lines.html", render_lines_html(_profile()))
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, chromium_sandbox=False)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 700})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: problems.append(r.url) if not r.url.startswith("file://") else None)
            page.goto(page_path.as_uri())
            assert page.locator("table.src tbody tr").count() == 4
            assert page.locator("tr.idle").count() == 1
            assert page.locator(".strip div").count() == 3
            assert EVIL in page.locator("table.src").inner_text()  # shown as text, not run
            widths = [box["width"] for box in (b.bounding_box() for b in page.locator(".bar").all()) if box]
            assert max(widths) > 100  # the 30 MiB line fills its cell
            assert len(widths) == 3
        finally:
            browser.close()
    assert problems == []
