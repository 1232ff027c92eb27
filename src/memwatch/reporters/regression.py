"""Text for people about a regression check (:class:`~memwatch.model.regression.RegressionReport`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memwatch.model.regression import RegressionReport

__all__ = ["regression_summary"]


def regression_summary(report: RegressionReport) -> str:
    """One line: counts per status and the verdict."""
    counts = {s: len(report._with(s)) for s in ("regressed", "improved", "unchanged", "new", "skipped")}
    parts = [f"{n} {s}" for s, n in counts.items() if n]
    verdict = "FAILED" if report.failed else "passed"
    text = f"regression check {verdict}: " + (", ".join(parts) or "nothing to compare")
    if report.unmatched_gates:
        metrics = sorted({c.metric for c in report.checks})
        text += (
            f"; gate {', '.join(report.unmatched_gates)} matched no metric of this run "
            f"({', '.join(metrics) or 'none'}) and checked nothing"
        )
    return text
