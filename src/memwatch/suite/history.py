"""Record a suite run in the history database: one run, every outcome's metrics as results."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from memwatch.model.suite import SuiteReport

__all__ = ["record_report"]


def record_report(store: Any, report: SuiteReport) -> SuiteReport:
    """Write the report's metrics in one transaction; return the report with its ``run_id``.

    Test ids read ``<component>::<check>``; each metric keeps its unit (NaN and
    infinite values are left out: the store refuses them). The run's
    meta holds the level, the verdict and each outcome's status.
    """
    from memwatch.store import ResultRow

    rows = [
        ResultRow(f"{o.component}::{o.check}", metric, o.units.get(metric, ""), (value,))
        for o in report.outcomes
        for metric, value in sorted(o.metrics.items())
        if math.isfinite(value)
    ]  # a metric that could not be measured is not history
    meta = {
        "level": report.level,
        "exit_code": report.exit_code,
        "config": report.config_source,
        "duration": report.duration,
        "outcomes": {f"{o.component}::{o.check}": o.status for o in report.outcomes},
        "leaks": _leak_notes(report),  # shown on the dashboard's test pages
    }
    run_id = store.record_run(
        "validate", rows, label=f"validate {report.level}", meta=meta, env=report.environment or None
    )
    return dataclasses.replace(report, run_id=run_id)


def _leak_notes(report: SuiteReport) -> dict[str, dict[str, Any]]:
    """The verdict, first retention paths and allocation sites of each leak report that found
    something (a few lines per check, so the run's meta stays small)."""
    notes: dict[str, dict[str, Any]] = {}
    for o in report.outcomes:
        doc = o.document or {}
        data = doc.get("data") if doc.get("kind") == "leak_report" else None
        if not isinstance(data, dict) or not (data.get("retention_paths") or data.get("leak_detected")):
            continue
        notes[f"{o.component}::{o.check}"] = {
            "reason": str(data.get("reason", "")),
            "paths": [" -> ".join(p.get("chain", ())) for p in data.get("retention_paths", ())[:3]],
            "sites": [str(s.get("location", "")) for s in data.get("sites", ())[:3]],
        }
    return notes
