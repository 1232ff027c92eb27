"""A self-contained HTML page (jinja2, autoescaped; inline CSS and SVG; no network, no script).

Renders a validation-suite report, a single profiled run or a pytest session (the
plugin's ``--memwatch-report``). Every test name,
message and value is escaped by the template engine; only the SVG produced by
:mod:`memwatch.reporters.svg` (which escapes its own text) is inserted raw.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

from memwatch.model.base import Record
from memwatch.model.pytest import ItemRecord, PytestSession
from memwatch.model.suite import Chart, CheckOutcome, SuiteReport
from memwatch.model.timeline import RunResult
from memwatch.reporters.svg import render_chart
from memwatch.units import format_duration, format_size, format_value

__all__ = ["render_html", "run_chart", "template_env"]


def template_env(package: str = "memwatch.reporters") -> Any:
    """The Jinja environment of every memwatch page: ``package``'s ``templates/`` folder,
    autoescaped, strict about undefined names."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _when(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, tz=_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _section(outcome: CheckOutcome) -> dict[str, Any]:
    metrics = [(k, format_value(v, outcome.units.get(k, ""))) for k, v in sorted(outcome.metrics.items())]
    return {
        "anchor": f"{outcome.component}-{outcome.check}",
        "title": f"{outcome.component} · {outcome.check}",
        "status": outcome.status,
        "summary": outcome.summary,
        "details": outcome.details,
        "metrics": metrics,
        "charts": [render_chart(c) for c in outcome.charts],
        "open": False,
    }


def _suite_context(report: SuiteReport) -> dict[str, Any]:
    rows = [
        {
            "cells": [o.component, o.check, o.status, o.severity, o.summary, format_duration(o.duration)],
            "badge_col": 2,
        }
        for o in report.outcomes
    ]
    cards = [(s, str(report.count(s))) for s in ("pass", "warn", "fail", "error", "skipped")]
    cards.append(("duration", format_duration(report.duration)))
    return {
        "title": f"memwatch validation · {report.level}",
        "subtitle": f"{_when(report.started_at)} · config {report.config_source or '(defaults)'}",
        "headline": report.headline,
        "passed": report.passed,
        "cards": cards,
        "headers": ["Component", "Check", "Status", "Severity", "Summary", "Time"],
        "rows": rows,
        "numeric": {5},
        "sections": [_section(o) for o in report.outcomes],
        "environment": [(k, _flat(v)) for k, v in sorted(report.environment.items())],
    }


def run_chart(run: RunResult) -> Chart:
    """The run's primary memory signal over time, phases marked at their starts."""
    tl = run.timeline
    signal = run.primary_signal
    values = tuple(float(v) for v in tl.signals[signal]) if signal in tl.signals else ()
    markers = tuple((p.start, p.name) for p in tl.phases if p.depth == 0)
    return Chart(
        title=f"{signal} over time",
        x=tuple(float(t) for t in tl.t),
        series={signal: values},
        unit=tl.units.get(signal, "bytes"),
        x_label="seconds",
        markers=markers,
    )


def _run_context(run: RunResult) -> dict[str, Any]:
    rows = [
        {
            "cells": [
                p.name,
                format_duration(p.duration),
                format_size(p.peak_memory),
                format_size(p.delta_memory, signed=True),
            ],
            "badge_col": -1,
        }
        for p in run.phase_stats
    ]
    title = " ".join(run.command) if run.command else (run.label or "in-process run")
    cards = [
        ("peak", format_size(run.peak)),
        ("growth", format_size(run.growth, signed=True)),
        ("duration", format_duration(run.duration)),
        ("samples", str(len(run.timeline))),
    ]
    section = {
        "anchor": "timeline",
        "title": "Timeline",
        "status": "",
        "summary": "",
        "details": "",
        "metrics": [],
        "charts": [render_chart(run_chart(run))],
        "open": False,
    }
    return {
        "title": f"memwatch run · {title}",
        "subtitle": f"ended: {run.exit}",
        "headline": f"peak {format_size(run.peak)} ({run.primary_signal})",
        "passed": True,
        "cards": cards,
        "headers": ["Phase", "Duration", "Peak", "Change"],
        "rows": rows,
        "numeric": {1, 2, 3},
        "sections": [section],
        "environment": [("host", run.host), ("python", run.python), ("platform", run.platform)],
    }


#: pytest outcome -> the badge (and its style) the page shows
_OUTCOME_BADGE = {"passed": "pass", "failed": "fail", "error": "error", "skipped": "skipped"}
_PYTEST_ROWS = 200


def _pytest_section(record: ItemRecord) -> dict[str, Any] | None:
    failed = record.failed_checks
    run = record.profile_result
    if not failed and run is None:
        return None
    figures = f"peak {format_size(record.peak or 0)}, growth {format_size(record.growth or 0, signed=True)}"
    return {
        "anchor": "test-" + "".join(c if c.isalnum() else "-" for c in record.nodeid),
        "title": record.nodeid,
        "status": "fail" if failed else "",
        "summary": (f"failed: {', '.join(c.check for c in failed)}; " if failed else "") + figures,
        "details": "\n\n".join(c.message for c in failed),
        "metrics": [],
        "open": bool(failed),
        "charts": [render_chart(run_chart(run))] if run is not None else [],
    }


def _pytest_context(session: PytestSession) -> dict[str, Any]:
    records = sorted(session.tests, key=lambda r: (-(r.peak or 0), r.nodeid))
    failed = [r for r in session.tests if r.failed_checks]
    shown = records[:_PYTEST_ROWS]
    rows = [
        {
            "cells": [
                r.nodeid,
                _OUTCOME_BADGE.get(r.outcome, r.outcome),
                format_size(r.peak or 0),
                format_size(r.growth or 0, signed=True),
                format_duration(r.duration),
                ", ".join(f"{c.check} {'ok' if c.passed else 'FAILED'}" for c in r.checks),
            ],
            "badge_col": 1,
        }
        for r in shown
    ]
    more = f" (the {len(shown)} biggest peaks shown)" if len(records) > len(shown) else ""
    biggest = format_size(records[0].peak or 0) if records else "–"
    cards = [
        ("tests", str(len(records))),
        ("failed a memory check", str(len(failed))),
        ("biggest peak", biggest),
        ("duration", format_duration(session.duration)),
        ("workers", str(session.workers or "–")),
    ]
    level = f", level {session.level}" if session.level else ""
    sections = [s for s in (_pytest_section(r) for r in records) if s is not None]
    return {
        "title": "memwatch · pytest session",
        "subtitle": f"{_when(session.started_at)}{level} · pytest {' '.join(session.args)}".rstrip(),
        "headline": f"{len(records)} tests measured, {len(failed)} failed a memory check{more}",
        "passed": not failed,
        "cards": cards,
        "headers": ["Test", "Outcome", "Peak", "Growth", "Duration", "Checks"],
        "rows": rows,
        "numeric": {2, 3, 4},
        "sections": sections,
        "environment": [
            ("python", session.python),
            ("platform", session.platform),
            ("host", session.host),
            ("rootdir", session.rootdir),
            ("exit status", str(session.exit_status)),
        ],
    }


def _flat(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def render_html(result: Record) -> str:
    """The HTML page for a validation report, a run or a pytest session."""
    from memwatch import __version__

    if isinstance(result, SuiteReport):
        context = _suite_context(result)
    elif isinstance(result, RunResult):
        context = _run_context(result)
    elif isinstance(result, PytestSession):
        context = _pytest_context(result)
    else:
        from memwatch.reporters import unsupported

        raise unsupported("html", result)
    context.update(
        version=__version__, generated=_dt.datetime.now(tz=_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    )
    return str(template_env().get_template("report.html.j2").render(**context))
