"""What each page shows, as plain dicts for the templates (charts already drawn as SVG).

The site's pages: ``index.html`` (every test and metric), ``regressions.html``
(change points that count), ``tests/<name>.html`` (one per test), ``runs.html``
(+ ``runs-2.html`` ...) and ``environments.html``. Templates escape every text;
only SVG from :mod:`memwatch.reporters.trendchart` (which escapes its own) is inserted raw.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from memwatch.config.schema import RegressionConfig
from memwatch.dashboard.analysis import Analysed, Finding
from memwatch.dashboard.scope import Scope, when
from memwatch.model.history import RunInfo
from memwatch.regression.check import is_leak_metric
from memwatch.reporters.trendchart import Marker, TrendFigure, format_value, render_sparkline, render_trend
from memwatch.units import format_duration

__all__ = [
    "RUNS_PER_PAGE",
    "STATUS_ORDER",
    "change_text",
    "commit",
    "finding_row",
    "metric_order",
    "overview_row",
    "page_name",
    "per_test_context",
    "run_rows",
    "runs_page_name",
]

RUNS_PER_PAGE = 500
STATUS_ORDER = {"regressed": 0, "missing": 1, "improved": 2, "new": 3, "ok": 4}
SEVERITY_ORDER = {"critical": 0, "major": 1, "minor": 2}
# Metrics shown first on a test's page, in this order; the rest follow by name.
_FIRST = ("peak", "growth", "python_peak", "native_peak", "bytes_per_1000_calls", "time_per_call")
_ROWS_SHOWN = 15


def metric_order(metric: str) -> tuple[int, str]:
    return (_FIRST.index(metric) if metric in _FIRST else len(_FIRST), metric)


def page_name(test_id: str) -> str:
    """``tests/<readable part>-<hash>.html``: unique per test id, safe on every file system."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", test_id).strip("-.")[:60] or "test"
    digest = hashlib.sha1(test_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"tests/{slug}-{digest}.html"


def runs_page_name(page: int) -> str:
    return "runs.html" if page == 0 else f"runs-{page + 1}.html"


def run_link(scope: Scope, run_id: int) -> str:
    """The runs page (newest first, :data:`RUNS_PER_PAGE` a page) and anchor of a run."""
    newest_first = len(scope.runs) - 1 - scope.position[run_id]
    return f"{runs_page_name(newest_first // RUNS_PER_PAGE)}#run-{run_id}"


def commit(run: RunInfo) -> str:
    return "@".join(p for p in (run.git_branch or "", (run.git_sha or "")[:7]) if p) or "–"


def change_text(a: Analysed) -> str:
    c = a.check
    if c is None or c.delta is None:
        return "–"
    pct = f" ({c.relative * 100:+.1f}%)" if c.relative is not None else ""
    return f"{format_value(c.delta, a.unit, signed=True)}{pct}"


def _sort_change(a: Analysed) -> float:
    c = a.check
    if c is None:
        return 0.0
    if c.relative is not None and not is_leak_metric(a.metric):
        return float(c.relative)
    return float(np.sign(c.delta or 0.0)) * 1e6 + (c.delta or 0.0) / 1e12


def overview_row(a: Analysed, href: str) -> dict[str, Any]:
    """One row of the overview table (small: the series' arrays are not kept)."""
    severity = a.check.severity if a.check is not None and a.status == "regressed" else ""
    return {
        "test": a.test_id,
        "metric": a.metric,
        "href": f"{href}#m-{_anchor(a.metric)}",
        "spark": render_sparkline(
            a.values,
            label=f"{a.metric} of {a.test_id} over {a.values.size} runs, latest {_fmt(a.latest, a.unit)}",
        ),
        "latest": _fmt(a.latest, a.unit),
        "latest_sort": a.latest,
        "change": change_text(a),
        "change_sort": _sort_change(a),
        "reference": a.reference,
        "status": a.status,
        "severity": severity or "",
        "env": a.env_key,
        "runs": int(a.values.size),
        "order": (
            STATUS_ORDER[a.status],
            SEVERITY_ORDER.get(severity or "", 3),
            -abs(_sort_change(a)) if a.status in ("regressed", "improved") else 0.0,
            a.test_id,
            a.metric,
        ),
    }


def finding_row(f: Finding, anchor: str, href: str, scope: Scope) -> dict[str, Any]:
    c = f.check
    ci = ""
    if c.ci_low is not None and c.ci_high is not None:
        ci = f"{(c.ci_low - 1) * 100:+.1f}% … {(c.ci_high - 1) * 100:+.1f}%"
    pct = f"{c.relative * 100:+.1f}%" if c.relative is not None else "–"
    return {
        "id": anchor,
        "test": f.test_id,
        "metric": f.metric,
        "href": f"{href}#m-{_anchor(f.metric)}",
        "run": f.run.id,
        "run_href": run_link(scope, f.run.id),
        "date": when(f.run.created_at),
        "commit": commit(f.run),
        "branch": f.run.git_branch or "–",
        "sha": f.run.git_sha or "",
        "env": f.env_key,
        "before": _fmt(c.baseline_value or 0.0, f.unit),
        "after": _fmt(_num(c.current_value), f.unit),
        "delta": format_value(c.delta or 0.0, f.unit, signed=True),
        "pct": pct,
        "ci": ci,
        "p": f"{c.p_value:.2g}" if c.p_value is not None else "–",
        "severity": c.severity if c.status == "regressed" else "",
        "status": c.status,
        "runs": f"{f.runs_before} vs {f.runs_after} runs",
        "gates": ", ".join(c.gates_failed),
        "order": (SEVERITY_ORDER.get(c.severity, 3), -(c.relative or 0.0), -f.run.id),
    }


def _num(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _fmt(value: float, unit: str) -> str:
    return format_value(value, unit)


def _anchor(metric: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", metric)


def _figure(a: Analysed, scope: Scope, markers: list[Marker], config: RegressionConfig) -> TrendFigure:
    runs = scope.runs
    pos = a.positions
    unit = a.unit

    dates, commits = scope.labels()

    def describe(i: int) -> str:
        k = int(pos[i])
        r = runs[k]
        return f"run {r.id} · {dates[k]} UTC · {commits[k]} · {r.env_key} · {_fmt(float(a.values[i]), unit)}"

    def describe_range(i: int, j: int, median: float, low: float, high: float) -> str:
        k, m = int(pos[i]), int(pos[j - 1])
        return (
            f"runs {runs[k].id}–{runs[m].id} ({j - i} runs, {dates[k]} – {dates[m]} UTC) · "
            f"{commits[k]} … {commits[m]} · median {_fmt(median, unit)}, {_fmt(low, unit)} – {_fmt(high, unit)}"
        )

    band: tuple[float, float, int] | None = None
    band_label = ""
    baseline: float | None = None
    check = a.check
    if check is not None and check.baseline_value is not None:
        baseline = float(check.baseline_value)
        envs = scope.env_codes[pos]
        same = np.nonzero(envs != envs[-1])[0]
        start = int(same[-1]) + 1 if same.size else 0
        if is_leak_metric(a.metric):
            width = float(max(config.abs_floor, config.leak_severity.minor)) if unit == "bytes" else 0.0
            low, high = baseline - width, baseline + width
            band_label = f"{a.reference}: {_fmt(baseline, unit)} ± {_fmt(width, unit)} (leak tolerance)"
        else:
            tol = config.severity.minor / 100.0
            low, high = baseline * (1 - tol), baseline * (1 + tol)
            band_label = (
                f"{a.reference}: {_fmt(baseline, unit)} ± {config.severity.minor:g}% (regression tolerance)"
            )
        band = (min(low, high), max(low, high), start)
    return TrendFigure(
        title=f"{a.metric} of {a.test_id}",
        unit=unit,
        values=a.values,
        point_title=describe,
        range_title=describe_range,
        tick_label=lambda i: str(runs[int(pos[i])].id),
        band=band,
        band_label=band_label,
        baseline=baseline,
        markers=markers,
    )


def per_test_context(
    test_id: str,
    series: Sequence[Analysed],
    scope: Scope,
    anchors: dict[int, str],
    leak: tuple[RunInfo, dict[str, Any]] | None,
    config: RegressionConfig,
) -> dict[str, Any]:
    """The context of one test's page; ``anchors`` maps id(finding) to its regressions-page anchor."""
    sections = []
    for k, a in enumerate(sorted(series, key=lambda s: metric_order(s.metric))):
        envs = scope.env_codes[a.positions]
        markers = [
            Marker(
                int(i),
                scope.env_names[int(envs[i])],
                "switch",
                f"environment switch: {scope.env_names[int(envs[i - 1])]} → {scope.env_names[int(envs[i])]}",
            )
            for i in np.nonzero(envs[1:] != envs[:-1])[0] + 1
        ]
        steps = []
        for f in a.findings:
            pct = (
                f"{f.check.relative * 100:+.0f}%"
                if f.check.relative is not None
                else format_value(f.check.delta or 0.0, a.unit, signed=True)
            )
            arrow = "▲" if f.direction == "up" else "▼"
            title = (
                f"{'regression' if f.direction == 'up' else 'improvement'} at run {f.run.id} ({commit(f.run)}, "
                f"{when(f.run.created_at)} UTC): {_fmt(f.check.baseline_value or 0.0, a.unit)} → "
                f"{_fmt(_num(f.check.current_value), a.unit)}"
            )
            href = f"../regressions.html#{anchors[id(f)]}"
            markers.append(Marker(f.point, f"{arrow} {pct}", f.direction, title, href))
            steps.append({"title": title, "href": href, "direction": f.direction})
        recent = []
        for i in range(a.values.size - 1, max(-1, a.values.size - 1 - _ROWS_SHOWN), -1):
            r = scope.runs[int(a.positions[i])]
            recent.append(
                (
                    r.id,
                    when(r.created_at),
                    commit(r),
                    r.env_key,
                    _fmt(float(a.values[i]), a.unit),
                    run_link(scope, r.id),
                )
            )
        sections.append(
            {
                "anchor": f"m-{_anchor(a.metric)}",
                "metric": a.metric,
                "svg": render_trend(_figure(a, scope, markers, config), chart_id=f"c{k}"),
                "status": a.status,
                "latest": _fmt(a.latest, a.unit),
                "change": change_text(a),
                "reference": a.reference,
                "runs": int(a.values.size),
                "reason": a.check.reason if a.check is not None else "",
                "steps": steps,
                "switches": len([m for m in markers if m.kind == "switch"]),
                "recent": recent,
            }
        )
    leak_ctx = None
    if leak is not None:
        run, info = leak
        leak_ctx = {
            "run": run.id,
            "date": when(run.created_at),
            "commit": commit(run),
            "reason": str(info.get("reason", "")),
            "paths": [str(p) for p in info.get("paths", [])][:5],
            "sites": [str(s) for s in info.get("sites", [])][:5],
        }
    worst = min((STATUS_ORDER[a.status] for a in series), default=4)
    return {
        "test": test_id,
        "sections": sections,
        "leak": leak_ctx,
        "status": next(s for s, k in STATUS_ORDER.items() if k == worst),
    }


def run_rows(scope: Scope, tests_per_run: np.ndarray, findings_per_run: Counter[int]) -> list[dict[str, Any]]:
    """Every run in scope, newest first, for the runs pages."""
    env_ids: dict[str, int] = {}
    rows = []
    for i in range(len(scope.runs) - 1, -1, -1):
        r = scope.runs[i]
        fp = _fingerprint_key(r)
        env_ids.setdefault(fp, len(env_ids))
        duration = r.meta.get("duration")
        outcomes = r.meta.get("outcomes")
        counts = ""
        if isinstance(outcomes, dict):
            tally = Counter(str(v) for v in outcomes.values())
            counts = " · ".join(f"{n} {s}" for s, n in sorted(tally.items()))
        elif "exit_status" in r.meta:
            counts = f"exit status {r.meta['exit_status']}"
        rows.append(
            {
                "id": r.id,
                "date": when(r.created_at),
                "kind": r.kind,
                "label": r.label,
                "commit": commit(r),
                "sha": r.git_sha or "",
                "env": r.env_key,
                "env_anchor": f"env-{env_ids[fp]}",
                "host": r.host,
                "duration": format_duration(float(duration)) if isinstance(duration, int | float) else "–",
                "results": r.result_count,
                "tests": int(tests_per_run[i]),
                "outcomes": counts,
                "steps": findings_per_run.get(r.id, 0),
            }
        )
    return rows


def _fingerprint_key(run: RunInfo) -> str:
    return repr(sorted((k, repr(v)) for k, v in run.env.items()))


def environments(scope: Scope) -> list[dict[str, Any]]:
    """Each distinct fingerprint (in order of first appearance, newest runs first), with its runs."""
    seen: dict[str, dict[str, Any]] = {}
    for i in range(len(scope.runs) - 1, -1, -1):
        r = scope.runs[i]
        key = _fingerprint_key(r)
        entry = seen.get(key)
        if entry is None:
            fields = [(k, _flat(v)) for k, v in sorted(r.env.items())]
            entry = seen[key] = {
                "id": f"env-{len(seen)}",
                "key": r.env_key,
                "fields": fields,
                "runs": 0,
                "first": r.id,
                "last": r.id,
            }
        entry["runs"] += 1
        entry["first"] = r.id
    return list(seen.values())


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in sorted(value.items())) or "–"
    return "–" if value is None else str(value)
