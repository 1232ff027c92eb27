"""validate on components: sync or async operations, with or without a factory, every check;
a leak over its max_growth fails the run by default."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from memwatch.cli import main
from memwatch.model.base import read_document
from memwatch.model.suite import SuiteReport

APP = """
import asyncio

KEPT = []


class Cart:
    def __init__(self):
        self.items = []

    async def aclose(self):
        await asyncio.sleep(0)
        self.items.clear()


class Store:
    def __init__(self):
        self.rows = {}

    def close(self):
        self.rows.clear()


def make_cart():
    return Cart()


async def add(cart):
    await asyncio.sleep(0)
    cart.items.append(bytearray(100))


def put(store):
    store.rows[len(store.rows)] = bytearray(100)


async def ping():
    await asyncio.sleep(0)


def leak():
    KEPT.append(bytearray(1000))
"""

ALL_CHECKS = """\
  leaks: {levels: [quick], iterations: 300, time_budget: 5s}
  regression: {levels: [quick], samples: 3, batch: 5}
  gc: {levels: [quick], iterations: 200}
  stress: {levels: [quick], timeout: 60s}
  bench: {levels: [quick], only: [allocation_rate]}
bench:
  thresholds: {allocation_rate: 1}   # the check is about the plumbing, not this machine's speed
"""


@pytest.fixture(autouse=True)
def fresh_module() -> Iterator[None]:
    sys.modules.pop("cartapp", None)
    yield
    sys.modules.pop("cartapp", None)


def validate(folder: Path, text: str) -> tuple[int, SuiteReport]:
    (folder / "cartapp.py").write_text(APP)
    (folder / "memwatch.yaml").write_text(text)
    reports = folder / "reports"
    code = main(
        ["validate", "--config", str(folder / "memwatch.yaml"), "--no-db", "--report-dir", str(reports)]
    )
    return code, read_document(next(reports.glob("quick_*.json")), expected=SuiteReport)


def test_every_check_runs_sync_and_async_with_and_without_a_factory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = (
        "components:\n"
        "  - {name: cart, operation: cartapp:add, factory: cartapp:make_cart}\n"
        "  - {name: store, operation: cartapp:put, factory: cartapp:Store}\n"
        "  - {name: ping, operation: cartapp:ping}\n"
        "checks:\n" + ALL_CHECKS
    )
    code, report = validate(tmp_path, config)
    out = capsys.readouterr().out
    by = {(o.component, o.check): o for o in report.outcomes}
    assert len(by) == 15
    for key, outcome in by.items():
        assert outcome.status == "pass", (key, outcome.summary, outcome.details)
    assert code == 0, out


def test_a_leak_over_its_max_growth_fails_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = (
        "components:\n"
        "  - name: leaky\n    operation: cartapp:leak\n    checks: [leaks]\n    leaks: {max_growth: 1 kB}\n"
        "leaks: {iterations: 400}\n"
    )
    code, report = validate(tmp_path, config)
    capsys.readouterr()
    (outcome,) = report.outcomes
    assert outcome.status == "fail", outcome.summary
    assert "over the budget" in outcome.summary
    assert code == 1


def test_fail_on_never_makes_the_same_leak_advisory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = (
        "components:\n  - {name: leaky, operation: cartapp:leak, checks: [leaks]}\n"
        "leaks: {iterations: 400, max_growth: 1 kB}\n"
        "checks:\n  leaks: {fail_on: never}\n"
    )
    code, report = validate(tmp_path, config)
    capsys.readouterr()
    assert [o.status for o in report.outcomes] == ["warn"]
    assert code == 0
