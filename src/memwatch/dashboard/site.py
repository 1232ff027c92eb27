"""Build the static site from a history database, streaming one test at a time.

Memory stays bounded: runs (few) are held; results arrive one series at a time from
:func:`memwatch.store.stream.iter_series`, the series of one test are judged and its
page written, then their arrays are dropped; only a small row per series and the
change points that count are kept for the overview and the regressions page.

The site is written into a temporary folder beside ``out`` and moved into place at
the end, so a failed build leaves the previous site as it was. A folder that is not
empty and was not written by this command is never replaced.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from memwatch.config.schema import RegressionConfig
from memwatch.dashboard import pages
from memwatch.dashboard.analysis import Analysed, Finding, analyse
from memwatch.dashboard.scope import Scope, select_runs, when
from memwatch.errors import UsageError
from memwatch.model.history import Baseline, RunInfo
from memwatch.regression.check import parse_gates
from memwatch.store.db import Store
from memwatch.store.stream import all_runs, iter_series, samples_of

__all__ = ["MARKER", "SiteSummary", "build_site", "iter_analysed"]

MARKER = ".memwatch-dashboard"
ASSETS = ("dashboard.css", "dashboard.js")


@dataclass(frozen=True)
class SiteSummary:
    """What was built: counts for the command's closing line."""

    out: Path
    runs: int
    tests: int
    series: int
    regressions: int
    improvements: int
    pages: int
    seconds: float
    statuses: dict[str, int]


def check_output(out: Path) -> None:
    """UsageError when ``out`` cannot take the site (a file, or a foreign non-empty folder)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {out}: is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise UsageError(
            f"-o {out}: folder is not empty and holds no memwatch dashboard; refusing to overwrite it"
        )
    parent = out.resolve().parent
    if not parent.is_dir():
        raise UsageError(f"-o {out}: folder {parent} does not exist")


def _baselines_by_series(store: Store) -> dict[tuple[str, str], list[Baseline]]:
    found: dict[tuple[str, str], list[Baseline]] = {}
    for b in store.baselines():
        found.setdefault((b.test_id, b.metric), []).append(b)
    return found


def _leak_reports(scope: Scope) -> dict[str, tuple[RunInfo, dict[str, Any]]]:
    """The newest leak report recorded in a run's meta (``meta["leaks"][test_id]``) per test."""
    found: dict[str, tuple[RunInfo, dict[str, Any]]] = {}
    for run in scope.runs:
        leaks = run.meta.get("leaks")
        if isinstance(leaks, dict):
            for test_id, info in leaks.items():
                if isinstance(info, dict):
                    found[str(test_id)] = (run, info)
    return found


def iter_analysed(
    store: Store,
    scope: Scope,
    *,
    config: RegressionConfig,
    min_change: float = 0.05,
    baselines: dict[tuple[str, str], list[Baseline]] | None = None,
    find_changes: bool = True,
) -> Iterator[list[Analysed]]:
    """The judged series of each test in turn (tests in id order, one list per test)."""
    base = _baselines_by_series(store) if baselines is None else baselines
    gates = parse_gates(config.fail_on)

    def read(test_id: str, metric: str, run_ids: Sequence[int]) -> dict[int, tuple[float, ...]]:
        return samples_of(store, test_id, metric, run_ids)

    group: list[Analysed] = []
    for s in iter_series(store, since_run=int(scope.ids[0])):
        a = analyse(
            s.test_id,
            s.metric,
            s.unit,
            s.run_ids,
            s.values,
            scope,
            base.get((s.test_id, s.metric), []),
            read,
            config=config,
            gates=gates,
            min_change=min_change,
            find_changes=find_changes,
        )
        if a is None:
            continue
        if group and group[0].test_id != a.test_id:
            yield group
            group = []
        group.append(a)
    if group:
        yield group


def build_site(
    store: Store,
    out: Path,
    *,
    env: str | None = None,
    branch: str | None = None,
    since: float | None = None,
    config: RegressionConfig | None = None,
    min_change: float = 0.05,
) -> SiteSummary:
    """Write the dashboard of ``store`` into ``out``; see the module docstring."""
    started = time.perf_counter()
    cfg = config or RegressionConfig()
    check_output(out)
    scope = select_runs(all_runs(store), where=store.display_url, env=env, branch=branch, since=since)
    tmp = out.resolve().parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "tests").mkdir(parents=True)
    try:
        summary = _write(store, scope, tmp, cfg, min_change, started)
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dataclasses.replace(summary, out=out)


def _write(
    store: Store, scope: Scope, tmp: Path, cfg: RegressionConfig, min_change: float, started: float
) -> SiteSummary:
    from memwatch.reporters.html import template_env

    jinja = template_env("memwatch.dashboard")
    test_tpl = jinja.get_template("test.html.j2")
    leaks = _leak_reports(scope)
    rows: list[dict[str, Any]] = []
    findings: list[tuple[Finding, str, str]] = []
    tests_per_run = np.zeros(len(scope.runs), dtype=np.int64)
    tests = 0
    common = _common(store, scope, cfg)
    for group in iter_analysed(store, scope, config=cfg, min_change=min_change):
        test_id = group[0].test_id
        href = pages.page_name(test_id)
        anchors: dict[int, str] = {}
        for a in group:
            for f in a.findings:
                anchor = f"f{len(findings) + 1}"
                anchors[id(f)] = anchor
                findings.append((f, anchor, href))
        seen = np.zeros(len(scope.runs), dtype=bool)
        for a in group:
            seen[a.positions] = True
            rows.append(pages.overview_row(a, href))
        tests_per_run += seen
        tests += 1
        ctx = pages.per_test_context(test_id, group, scope, anchors, leaks.get(test_id), cfg)
        _put(tmp / href, test_tpl.render(root="../", page="test", **common, **ctx))
    if not rows:
        raise UsageError(f"no results in the {scope.describe()} of {store.display_url}: nothing to show")
    rows.sort(key=lambda r: r["order"])
    statuses = Counter(r["status"] for r in rows)
    regressions = sorted(
        (
            pages.finding_row(f, anchor, href, scope)
            for f, anchor, href in findings
            if f.check.status == "regressed"
        ),
        key=lambda r: r["order"],
    )
    improvements = sorted(
        (
            pages.finding_row(f, anchor, href, scope)
            for f, anchor, href in findings
            if f.check.status == "improved"
        ),
        key=lambda r: r["order"],
    )
    envs = sorted({r["env"] for r in rows})
    _put(
        tmp / "index.html",
        jinja.get_template("index.html.j2").render(
            root="",
            page="index",
            rows=rows,
            statuses=statuses,
            envs=envs,
            tests=tests,
            regressions=len(regressions),
            improvements=len(improvements),
            **common,
        ),
    )
    _put(
        tmp / "regressions.html",
        jinja.get_template("regressions.html.j2").render(
            root="", page="regressions", regressions=regressions, improvements=improvements, **common
        ),
    )
    per_run = Counter(f.run.id for f, _, _ in findings)
    run_rows = pages.run_rows(scope, tests_per_run, per_run)
    runs_tpl = jinja.get_template("runs.html.j2")
    page_count = max(1, -(-len(run_rows) // pages.RUNS_PER_PAGE))
    for k in range(page_count):
        chunk = run_rows[k * pages.RUNS_PER_PAGE : (k + 1) * pages.RUNS_PER_PAGE]
        nav = [(pages.runs_page_name(j), j + 1, j == k) for j in range(page_count)]
        _put(
            tmp / pages.runs_page_name(k),
            runs_tpl.render(root="", page="runs", runs=chunk, nav=nav, **common),
        )
    _put(
        tmp / "environments.html",
        jinja.get_template("environments.html.j2").render(
            root="", page="environments", environments=pages.environments(scope), **common
        ),
    )
    for name in ASSETS:
        (tmp / name).write_bytes(resources.files("memwatch.dashboard").joinpath("assets", name).read_bytes())
    (tmp / MARKER).write_text(
        "written by memwatch dashboard; the folder is replaced on each build\n", encoding="utf-8"
    )
    written = tests + 3 + page_count
    return SiteSummary(
        tmp,
        len(scope.runs),
        tests,
        len(rows),
        len(regressions),
        len(improvements),
        written,
        time.perf_counter() - started,
        dict(statuses),
    )


def _common(store: Store, scope: Scope, cfg: RegressionConfig) -> dict[str, Any]:
    first, last = scope.runs[0], scope.runs[-1]
    return {
        "database": store.display_url,
        "scope": scope.describe(),
        "span": f"runs {first.id}–{last.id}, {when(first.created_at)} – {when(last.created_at)} UTC",
        "built": when(time.time()),
        "rules": (
            f"tolerance {cfg.severity.minor:g}%, floor {cfg.abs_floor / 2**20:g} MiB, "
            f"leak metrics from {cfg.leak_severity.minor / 1e6:g} MB, alpha {cfg.alpha:g}"
            + (f", gates {', '.join(cfg.fail_on)}" if cfg.fail_on else "")
        ),
    }


def _put(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _swap(tmp: Path, out: Path) -> None:
    old = out.resolve().parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
