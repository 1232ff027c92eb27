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
        "outcomes": {f"{o.component}::{o.check}": o.status for o in report.outcomes},
    }
    run_id = store.record_run(
        "validate", rows, label=f"validate {report.level}", meta=meta, env=report.environment or None
    )
    return dataclasses.replace(report, run_id=run_id)
