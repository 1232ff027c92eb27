"""``memwatch history diff``: what changed between two runs, as a pull-request comment.

A side (``--base``/``--head``) names a run by branch (its newest run), by commit (a
sha prefix of at least 4 hex digits, or any git revision such as ``HEAD``, resolved
with ``git rev-parse`` in the current folder), or as ``run:ID``. Every result of the
head run is checked against the base run's samples of the same test and metric
with :func:`memwatch.regression.check.check_metric` (the gates' rules); runs from
different environment keys are not compared (the checks say *skipped* and why).
"""

from __future__ import annotations

import html
import re
import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memwatch.config.schema import RegressionConfig
from memwatch.errors import UsageError
from memwatch.model.history import Baseline, RunInfo
from memwatch.model.regression import MetricCheck
from memwatch.regression.check import check_metric, parse_gates
from memwatch.reporters.trendchart import format_value
from memwatch.store.db import Store

__all__ = ["DiffRow", "RunDiff", "diff_runs", "render_markdown", "resolve_run", "to_json"]

_ORDER = {"regressed": 0, "improved": 1, "new": 2, "missing": 3, "skipped": 4, "unchanged": 5}
_ICON = {"regressed": "🔴", "improved": "🟢", "new": "🆕", "missing": "⚪", "skipped": "⏭️", "unchanged": ""}


@dataclass(frozen=True)
class DiffRow:
    """One test's metric: ``check`` is None when the head run lacks it (``missing``)."""

    test_id: str
    metric: str
    unit: str
    status: str
    base: float | None
    head: float | None
    check: MetricCheck | None = None


@dataclass(frozen=True)
class RunDiff:
    base: RunInfo
    head: RunInfo
    rows: tuple[DiffRow, ...]

    def counts(self) -> Counter[str]:
        return Counter(r.status for r in self.rows)


def _label(run: RunInfo) -> str:
    where = "@".join(p for p in (run.git_branch or "", (run.git_sha or "")[:7]) if p)
    return f"{where} (run {run.id})" if where else f"run {run.id}"


def _git_sha(ref: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def resolve_run(runs: Sequence[RunInfo], ref: str, *, option: str, where: str) -> RunInfo:
    """The run ``ref`` names (see the module docstring); UsageError in one line when none."""
    text = ref.strip()
    newest_first = sorted(runs, key=lambda r: r.id, reverse=True)
    if text.startswith("run:"):
        wanted = text[4:]
        found = next((r for r in newest_first if str(r.id) == wanted), None)
        if found is None:
            raise UsageError(f"{option} {ref!r}: no run {wanted} in {where}")
        return found
    found = next((r for r in newest_first if r.git_branch == text), None)
    if found is None and re.fullmatch(r"[0-9a-fA-F]{4,64}", text):
        found = next((r for r in newest_first if (r.git_sha or "").lower().startswith(text.lower())), None)
    if found is None and text:
        sha = _git_sha(text)
        if sha:
            found = next((r for r in newest_first if r.git_sha == sha), None)
    if found is None:
        branches = sorted({r.git_branch for r in runs if r.git_branch})
        known = f"; branches recorded: {', '.join(branches[:8])}" if branches else ""
        raise UsageError(
            f"{option} {ref!r}: no run recorded for that branch or commit in {where}{known} "
            "(or name a run as run:ID)"
        )
    return found


def diff_runs(
    store: Store, base: RunInfo, head: RunInfo, *, config: RegressionConfig | None = None
) -> RunDiff:
    """Check every result of ``head`` against ``base``'s samples of the same test and metric."""
    cfg = config or RegressionConfig()
    gates = parse_gates(cfg.fail_on)
    before = {(r.test_id, r.metric): r for r in store.results(base.id)}
    after = {(r.test_id, r.metric): r for r in store.results(head.id)}
    rows: list[DiffRow] = []
    for key, row in after.items():
        old = before.get(key)
        candidates = (
            [
                Baseline(
                    row.test_id,
                    row.metric,
                    old.unit,
                    old.samples,
                    base.env_key,
                    base.env,
                    base.id,
                    _label(base),
                )
            ]
            if old is not None
            else []
        )
        c = check_metric(row, candidates, env_key=head.env_key, env=head.env, config=cfg, gates=gates)
        rows.append(
            DiffRow(row.test_id, row.metric, row.unit, c.status, old.value if old else None, row.value, c)
        )
    rows.extend(
        DiffRow(old.test_id, old.metric, old.unit, "missing", old.value, None)
        for key, old in before.items()
        if key not in after
    )
    rows.sort(
        key=lambda r: (
            _ORDER.get(r.status, 9),
            -abs(r.check.relative or 0.0) if r.check else 0.0,
            r.test_id,
            r.metric,
        )
    )
    return RunDiff(base, head, tuple(rows))


def _cell(text: str) -> str:
    return html.escape(text).replace("|", "&#124;")


def _change(c: MetricCheck | None) -> str:
    if c is None or c.delta is None:
        return "–"
    pct = f" ({c.relative * 100:+.1f}%)" if c.relative is not None else ""
    return f"{format_value(c.delta, c.unit, signed=True)}{pct}"


def _value(value: float | None, unit: str) -> str:
    return "–" if value is None else format_value(value, unit)


def render_markdown(diff: RunDiff, *, unchanged_rows: int = 0) -> str:
    """A Markdown comment: a headline, a table of what changed, the unchanged ones counted."""
    counts = diff.counts()
    lines = [
        f"### memwatch: memory of {_cell(_label(diff.head))} against {_cell(_label(diff.base))}",
        "",
    ]
    if diff.base.env_key != diff.head.env_key:
        lines += [
            f"> base ran in `{diff.base.env_key}`, head in `{diff.head.env_key}`: "
            "memory figures of different environments are not compared.",
            "",
        ]
    parts = [
        f"{counts.get(s, 0)} {s}" for s in ("regressed", "improved", "new", "missing", "skipped", "unchanged")
    ]
    parts[0] = f"**{parts[0]}**"
    lines += [", ".join(parts), ""]
    shown = [r for r in diff.rows if r.status != "unchanged"]
    shown += [r for r in diff.rows if r.status == "unchanged"][:unchanged_rows]
    if shown:
        lines += ["| | test | metric | base | head | change | |", "|---|---|---|---|---|---|---|"]
        for r in shown:
            c = r.check
            note = c.severity if c is not None and r.status == "regressed" else r.status
            if c is not None and c.gates_failed:
                note += f" (gate {', '.join(c.gates_failed)})"
            lines.append(
                f"| {_ICON.get(r.status, '')} | <code>{_cell(r.test_id)}</code> | {_cell(r.metric)} | "
                f"{_value(r.base, r.unit)} | {_value(r.head, r.unit)} | {_change(c)} | {_cell(note)} |"
            )
    else:
        lines.append("No test changed memory by the regression gates' rules.")
    lines += [
        "",
        "<sub>memwatch history diff: tolerance, absolute floor and Mann–Whitney significance as in the regression gates.</sub>",
        "",
    ]
    return "\n".join(lines)


def to_json(diff: RunDiff) -> dict[str, Any]:
    return {
        "base": {
            "run": diff.base.id,
            "sha": diff.base.git_sha,
            "branch": diff.base.git_branch,
            "env": diff.base.env_key,
        },
        "head": {
            "run": diff.head.id,
            "sha": diff.head.git_sha,
            "branch": diff.head.git_branch,
            "env": diff.head.env_key,
        },
        "counts": dict(diff.counts()),
        "results": [
            {
                "test_id": r.test_id,
                "metric": r.metric,
                "unit": r.unit,
                "status": r.status,
                "severity": r.check.severity if r.check else "none",
                "base": r.base,
                "head": r.head,
                "delta": r.check.delta if r.check else None,
                "relative": r.check.relative if r.check else None,
                "p_value": r.check.p_value if r.check else None,
                "reason": r.check.reason if r.check else "not measured in the head run",
            }
            for r in diff.rows
        ],
    }
