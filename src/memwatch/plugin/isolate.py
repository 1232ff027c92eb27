"""``--memwatch-isolate``: run a test with a memwatch check in a fresh ``python -m pytest``.

The parent runs ``pytest <node id> --memwatch-child-out FILE`` in the rootdir; the
child runs that one test as usual (fixtures included), and writes each of its
reports, serialised by pytest's own ``pytest_report_to_serializable`` hook, as a
line of FILE. The parent replays them through ``pytest_runtest_logreport``, so the
terminal, JUnit XML and memwatch's records see an ordinary test. A child that dies
or reports nothing becomes a failed test that says how the child ended and shows the
end of its output. The child is run by :func:`memwatch.runs.child.run_child`, in its
own process group: whatever the test started ends with it.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from memwatch.runs.child import ChildRun, run_child

__all__ = ["absolute_db_url", "child_args", "run_isolated", "write_child_report"]

_OUTPUT_TAIL = 3000


def child_args(item: pytest.Item, out: Path) -> list[str]:
    """The command line that runs ``item`` alone in a child process."""
    config = item.config
    args = [
        sys.executable,
        "-m",
        "pytest",
        item.nodeid,
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(config.rootpath),
        "--memwatch-child-out",
        str(out),
    ]
    if config.inipath is not None:
        args += ["-c", str(config.inipath)]
    if config.pluginmanager.hasplugin("xdist"):
        args += ["-n", "0"]  # addopts may ask for workers: the child is one test
    for override in config.getoption("override_ini", default=None) or ():
        args += ["-o", str(override)]
    if config.getoption("memwatch_tracemalloc", default=None):
        args.append("--memwatch-tracemalloc")
    if config.getoption("memwatch_leaks", default=None):
        args.append("--memwatch-leaks")
    db_url = config.getoption("memwatch_db", default=None) or config.getini("memwatch_db")
    if db_url:  # memory_regression reads its baselines (the parent alone writes the store)
        args += ["--memwatch-db", absolute_db_url(str(db_url), config.invocation_params.dir)]
    return args


def absolute_db_url(url: str, base: Path) -> str:
    """``url`` with a relative SQLite path made absolute from ``base`` (the child runs elsewhere)."""
    if "://" not in url:
        return str(base / url) if not Path(url).is_absolute() else url
    if url.startswith("sqlite:///") and not url.startswith(("sqlite:////", "sqlite:///:memory:")):
        return "sqlite:///" + str(base / url[len("sqlite:///") :])
    return url


def write_child_report(config: pytest.Config, report: pytest.TestReport, out: str) -> None:
    """In the child: append one report to the parent's file."""
    data = config.hook.pytest_report_to_serializable(config=config, report=report)
    with open(out, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(data, default=str) + "\n")


def _crashed(item: pytest.Item, run: ChildRun) -> pytest.TestReport:
    tail = run.output[-_OUTPUT_TAIL:]
    text = (
        f"memwatch --memwatch-isolate: the child process running {item.nodeid} ended before the test did "
        f"({run.ending.describe()})\n{tail}"
    )
    return pytest.TestReport(
        item.nodeid, item.location, dict.fromkeys(item.keywords, 1), "failed", text, "call"
    )


def run_isolated(item: pytest.Item) -> None:
    """Run ``item`` in a child process and replay its reports here."""
    config = item.config
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    with tempfile.TemporaryDirectory(prefix="memwatch-isolate-") as tmp:
        out = Path(tmp) / "reports.jsonl"
        run = run_child(child_args(item, out), cwd=config.rootpath, document=out, document_lines=True)
    reports: list[Any] = [
        config.hook.pytest_report_from_serializable(config=config, data=data) for data in run.document
    ]
    reports = [r for r in reports if isinstance(r, pytest.TestReport) and r.nodeid == item.nodeid]
    if not any(report.when == "teardown" for report in reports):  # the child died mid-test
        reports = [r for r in reports if r.when == "setup"] + [_crashed(item, run)]
    for report in reports:
        ihook.pytest_runtest_logreport(report=report)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
