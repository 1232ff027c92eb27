"""Results of ``MemoryPerformanceRegression``: one function's memory performance, and its
comparison with a baseline, metric by metric (kinds ``performance_metrics`` and
``performance_regression``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from memwatch.model.base import Record, register_kind
from memwatch.model.regression import RegressionReport, Severity, Status

__all__ = ["MetricChange", "PerformanceMetrics", "PerformanceRegressionResult"]

MB = 1_000_000


@register_kind("performance_metrics")
@dataclass(frozen=True)
class PerformanceMetrics(Record):
    """What ``benchmark_memory_performance`` measured: ``samples`` batches of ``batch`` calls
    (``iterations`` calls in all). Each figure is the median over the batches:

    - ``peak``: the highest Python-heap bytes above the batch's start (tracemalloc),
    - ``growth``: bytes the batch left allocated after a full collection,
    - ``time_per_op`` (seconds) and ``ops_per_second`` (wall clock, tracemalloc on),
    - ``gc_collections`` and ``gc_pause_avg_ms``: the collections during the measured calls.

    ``series`` holds every metric's samples and ``units`` their units (what the history
    database stores); ``run_id`` is the history run they were recorded as (None: not recorded).
    """

    component_name: str
    test_name: str
    iterations: int
    samples: int
    batch: int
    peak: float
    growth: float
    time_per_op: float
    ops_per_second: float
    gc_collections: int
    gc_pause_avg_ms: float | None
    series: dict[str, tuple[float, ...]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    run_id: int | None = None

    @property
    def test_id(self) -> str:
        """The id the figures are stored under in the history database."""
        return f"{self.component_name}::{self.test_name}" if self.component_name else self.test_name

    @property
    def peak_memory_mb(self) -> float:
        return self.peak / MB

    @property
    def memory_growth_mb(self) -> float:
        return self.growth / MB

    @property
    def execution_time_ms(self) -> float:
        """Milliseconds per call."""
        return self.time_per_op * 1000.0


@dataclass(frozen=True)
class MetricChange(Record):
    """One metric now against its baseline: ``change_percent`` is the change of the median
    over the baseline's; ``direction`` says which way is better; ``threshold_percent`` is the
    change that counted (None for growth, judged in bytes); ``verdict`` is the status."""

    metric: str
    unit: str
    value: float | None
    baseline: float | None
    change_percent: float | None
    direction: Literal["lower", "higher"]
    threshold_percent: float | None
    verdict: Status
    severity: Severity = "none"
    p_value: float | None = None

    @property
    def regressed(self) -> bool:
        return self.verdict == "regressed"


@register_kind("performance_regression")
@dataclass(frozen=True)
class PerformanceRegressionResult(Record):
    """``compare_with_baseline``'s answer.

    ``regression_detected``: a metric moved the worse way past its threshold, the
    statistics agreeing. ``confidence``: 1 minus the smallest Mann-Whitney p-value among
    the metrics that regressed (0.0 when none did, or when the samples were too few for
    the test). ``baseline_source`` says where the baseline came from.
    """

    test_id: str
    regression_detected: bool
    changes: tuple[MetricChange, ...]
    confidence: float
    severity: Severity
    baseline_source: str
    report: RegressionReport

    @property
    def regressions(self) -> tuple[MetricChange, ...]:
        return tuple(c for c in self.changes if c.regressed)

    def change(self, metric: str) -> MetricChange:
        """The named metric's change; KeyError lists the metrics there are."""
        for c in self.changes:
            if c.metric == metric:
                return c
        raise KeyError(f"no metric {metric!r}; compared: {[c.metric for c in self.changes]}")

    def summary(self) -> str:
        """One line per metric and a verdict line."""
        lines = []
        for c in self.changes:
            pct = "" if c.change_percent is None else f" ({c.change_percent:+.1f}%"
            limit = "" if c.threshold_percent is None else f", threshold {c.threshold_percent:g}%"
            pct = f"{pct}{limit})" if pct else ""
            lines.append(f"{c.metric}: {c.verdict}{pct}, {c.direction} is better")
        verdict = (
            f"regression detected ({self.severity}, confidence {self.confidence:.2f})"
            if self.regression_detected
            else "no regression"
        )
        return "\n".join([*lines, f"{self.test_id}: {verdict} against {self.baseline_source}"])
