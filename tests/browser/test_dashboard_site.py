"""Open every kind of dashboard page in real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from memwatch.dashboard.pages import page_name
from memwatch.dashboard.site import build_site
from memwatch.store import open_store
from tests.browser.test_html_report import CHROMIUM, FLAGS
from tests.integration.dashboard_history import EVIL, STEP_RUN, planted

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM,
        reason="headless Chromium is not installed (scripts/browser.sh installs Debian's chromium)",
    ),
]

PAGES = {
    "overview": "index.html",
    "regressions": "regressions.html",
    "test": page_name("tests/test_step.py::test_triple"),
    "evil": page_name(EVIL),
    "runs": "runs.html",
    "environments": "environments.html",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dash")
    planted(str(folder / "history.db"))
    with open_store(str(folder / "history.db")) as store:
        build_site(store, folder / "site")
    return folder / "site"


@pytest.fixture(scope="module")
def browser() -> object:
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is a test dependency")
    with playwright.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, chromium_sandbox=False)
        try:
            yield b
        finally:
            b.close()


def _open(browser: object, path: Path, *, width: int = 1200, dark: bool = False) -> tuple[object, list[str]]:
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": width, "height": 900}, color_scheme="dark" if dark else "light"
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "request", lambda r: problems.append(f"network: {r.url}") if not r.url.startswith("file://") else None
    )
    page.goto(path.as_uri(), wait_until="load")
    return page, problems


def _shot(page: object, name: str, tmp: Path) -> None:
    folder = Path(os.environ.get("MEMWATCH_SCREENSHOT_DIR") or tmp)
    page.screenshot(path=str(folder / f"dashboard-{name}.png"), full_page=True)  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", list(PAGES))
def test_every_kind_of_page_opens_without_errors_or_network(
    site: Path, browser: object, kind: str, tmp_path: Path
) -> None:
    page, problems = _open(browser, site / PAGES[kind])
    assert page.title().endswith("· memwatch dashboard")  # type: ignore[attr-defined]
    assert page.locator("nav a[aria-current=page]").count() <= 1  # type: ignore[attr-defined]
    _shot(page, kind, tmp_path)
    assert problems == []


def test_overview_filters_and_sorts(site: Path, browser: object) -> None:
    page, problems = _open(browser, site / "index.html")
    rows = page.locator("#overview tbody tr")  # type: ignore[attr-defined]
    assert rows.count() == 8
    assert "test_triple" in rows.first.inner_text()
    page.fill("#f-name", "triple")  # type: ignore[attr-defined]
    assert page.locator("#overview tbody tr:visible").count() == 2  # type: ignore[attr-defined]
    assert page.locator("#f-count").inner_text() == "2 rows"  # type: ignore[attr-defined]
    page.fill("#f-name", "")  # type: ignore[attr-defined]
    page.select_option("#f-status", "missing")  # type: ignore[attr-defined]
    assert page.locator("#overview tbody tr:visible").inner_text().startswith("tests/test_gone.py")  # type: ignore[attr-defined]
    page.select_option("#f-status", "")  # type: ignore[attr-defined]
    page.click("button[data-key=latest]")  # type: ignore[attr-defined]
    assert page.locator("button[data-key=latest]").get_attribute("aria-sort") == "ascending"  # type: ignore[attr-defined]
    assert "growth" in rows.nth(0).inner_text()  # 0 B, the smallest
    assert "test_gone" in rows.nth(1).inner_text()  # 5 MiB, the smallest peak
    assert EVIL in page.locator("#overview").inner_text()  # type: ignore[attr-defined]
    # keyboard: from a fresh load, Tab reaches the skip link, then the navigation, then the sort buttons
    page.reload()  # type: ignore[attr-defined]
    page.keyboard.press("Tab")  # type: ignore[attr-defined]
    assert page.evaluate("document.activeElement.className") == "skip"  # type: ignore[attr-defined]
    page.keyboard.press("Tab")  # type: ignore[attr-defined]
    assert page.evaluate("document.activeElement.textContent") == "memwatch"  # type: ignore[attr-defined]
    assert problems == []


def test_test_page_chart_has_titles_and_links_to_the_step(site: Path, browser: object) -> None:
    page, problems = _open(browser, site / PAGES["test"])
    svg = page.locator("svg.trend").first  # type: ignore[attr-defined]
    assert svg.get_attribute("role") == "img"
    box = svg.bounding_box()
    assert box is not None
    assert box["width"] > 500
    titles = page.evaluate(  # type: ignore[attr-defined]
        "[...document.querySelectorAll('svg.trend circle.pt title')].map(t => t.textContent)"
    )
    assert any(t.startswith(f"run {STEP_RUN} · ") for t in titles)
    page.click("ul.changes a")  # type: ignore[attr-defined]
    assert page.url.endswith("regressions.html#f1")  # type: ignore[attr-defined]
    assert "test_triple" in page.locator("tr:target").inner_text()  # type: ignore[attr-defined]
    assert problems == []


@pytest.mark.parametrize("kind", ["overview", "test", "regressions"])
def test_phone_width_and_dark_mode(site: Path, browser: object, kind: str, tmp_path: Path) -> None:
    page, problems = _open(browser, site / PAGES[kind], width=390, dark=True)
    # the page itself never scrolls sideways (wide tables scroll inside their box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 392  # type: ignore[attr-defined]
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")  # type: ignore[attr-defined]
    assert background == "rgb(11, 17, 32)"
    _shot(page, f"{kind}-phone-dark", tmp_path)
    assert problems == []
