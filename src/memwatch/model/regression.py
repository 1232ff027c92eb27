"""The result of comparing a run's metrics with their baselines (kind ``regression_report``).

One :class:`MetricCheck` per test and metric says what happened (``status``), how bad
(``severity``), the numbers and statistics behind it, which gate expressions failed
and why a baseline was not used. :class:`RegressionReport` gathers them for a run and
applies the failure policy: a critical regression or a failed gate fails the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from memwatch.errors import CheckFailed
from memwatch.model.base import Record, register_kind

__all__ = ["SEVERITY_ORDER", "MetricCheck", "RegressionReport", "Severity", "Status"]

Severity = Literal["none", "minor", "major", "critical"]
Status = Literal["regressed", "improved", "unchanged", "new", "skipped"]
SEVERITY_ORDER: dict[str, int] = {"none": 0, "minor": 1, "major": 2, "critical": 3}


@dataclass(frozen=True)
class MetricCheck(Record):
    """One test's metric against its baseline.

    ``status``: ``regressed`` / ``improved`` (a change every criterion agreed on),
    ``unchanged``, ``new`` (no baseline anywhere) or ``skipped`` (a baseline exists
    but could not be used: ``reason`` says why). A regression is a change in the
    direction that is worse for the metric (``better``): up for memory and time, down
    for rates and hit rates. ``relative`` is the change of the
    median over the baseline median; ``ci_low``/``ci_high`` bound the ratio of
    medians; ``update_baseline`` marks a confirmed improvement.
    """

    test_id: str
    metric: str
    unit: str
    status: Status
    severity: Severity = "none"
    current: tuple[float, ...] = ()
    baseline: tuple[float, ...] = ()
    current_value: float | None = None
    baseline_value: float | None = None
    delta: float | None = None
    relative: float | None = None
    p_value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    significance: str = ""
    gates_failed: tuple[str, ...] = ()
    reason: str = ""
    warnings: tuple[str, ...] = ()
    baseline_env: str = ""
    baseline_run: int | None = None
    baseline_source: str = ""
    update_baseline: bool = False
    baseline_updated: bool = False
    #: which way the metric is better (``lower``: memory, time; ``higher``: rates, hit rates)
    better: Literal["lower", "higher"] = "lower"
    #: the percent change that counted as a change for this metric (None: judged in bytes)
    threshold: float | None = None

    @property
    def failed(self) -> bool:
        """A critical regression, or a gate expression that failed."""
        return bool(self.gates_failed) or (self.status == "regressed" and self.severity == "critical")


@register_kind("regression_report")
@dataclass(frozen=True)
class RegressionReport(Record):
    """All checks of one run; ``thresholds`` are the percent (or byte, for leak
    metrics) limits of minor / major / critical that were applied.
    ``unmatched_gates`` are gate expressions that named no metric of the run (a typo,
    or a metric this run did not measure): they checked nothing."""

    env_key: str
    checks: tuple[MetricCheck, ...]
    run_id: int | None = None
    gates: tuple[str, ...] = ()
    alpha: float = 0.05
    thresholds: dict[str, float] = field(default_factory=dict)
    leak_thresholds: dict[str, float] = field(default_factory=dict)
    unmatched_gates: tuple[str, ...] = ()

    def _with(self, status: str) -> list[MetricCheck]:
        return [c for c in self.checks if c.status == status]

    @property
    def regressions(self) -> list[MetricCheck]:
        return self._with("regressed")

    @property
    def improvements(self) -> list[MetricCheck]:
        return self._with("improved")

    @property
    def skipped(self) -> list[MetricCheck]:
        return self._with("skipped")

    @property
    def failures(self) -> list[MetricCheck]:
        """Checks that fail the run (critical regressions and failed gates)."""
        return [c for c in self.checks if c.failed]

    @property
    def failed(self) -> bool:
        return any(c.failed for c in self.checks)

    @property
    def worst_severity(self) -> Severity:
        worst: Severity = "none"
        for c in self.regressions:
            if SEVERITY_ORDER[c.severity] > SEVERITY_ORDER[worst]:
                worst = c.severity
        return worst

    def summary(self) -> str:
        """One line: counts per status and the verdict."""
        from memwatch.reporters.regression import regression_summary

        return regression_summary(self)

    def raise_for_regressions(self) -> None:
        """Raise :class:`~memwatch.errors.CheckFailed` when the failure policy says so."""
        if not self.failed:
            return
        lines = [self.summary()]
        for c in self.failures:
            why = f"gates {', '.join(c.gates_failed)}" if c.gates_failed else f"{c.severity} regression"
            lines.append(f"  {c.test_id} {c.metric}: {why}")
        raise CheckFailed("\n".join(lines))
