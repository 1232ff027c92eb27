"""Results of the validation suite: one outcome per (component, check), and the run's verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from memwatch.model.base import Record, register_kind

__all__ = ["Chart", "CheckOutcome", "Severity", "Status", "SuiteReport"]

Status = Literal["pass", "warn", "fail", "error", "skipped"]
Severity = Literal["none", "trace", "minor", "major", "critical"]
Level = Literal["quick", "comprehensive", "nightly"]


@dataclass(frozen=True)
class Chart(Record):
    """Series to draw, already computed by the check (reporters only draw).

    ``series`` maps a label to y values aligned with ``x``; ``unit`` is ``bytes``,
    ``count`` or ``ms`` and decides the axis format.
    """

    title: str
    x: tuple[float, ...]
    series: dict[str, tuple[float, ...]]
    unit: str = "bytes"
    x_label: str = ""
    markers: tuple[tuple[float, str], ...] = ()


@dataclass(frozen=True)
class CheckOutcome(Record):
    """What one check said about one component.

    ``status`` is the policy's verdict (``fail`` fails the run, ``warn`` passes and
    notifies); ``severity`` is the engine's own grading; ``metrics`` are the figures
    the check measured (bytes, counts, ms), recorded in the history store;
    ``document`` is the engine's full result (its versioned JSON), when it has one.
    """

    component: str
    check: str
    status: Status
    severity: Severity = "none"
    summary: str = ""
    details: str = ""
    duration: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    document: dict[str, Any] | None = None
    baseline_updated: bool = False
    charts: tuple[Chart, ...] = ()


@register_kind("validation_report")
@dataclass(frozen=True)
class SuiteReport(Record):
    """One run of ``memwatch validate`` at a level."""

    level: Level
    started_at: float
    duration: float
    config_source: str
    outcomes: tuple[CheckOutcome, ...]
    exit_code: int
    environment: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    @property
    def headline(self) -> str:
        parts = [
            f"{self.count(s)} {s}" for s in ("pass", "warn", "fail", "error", "skipped") if self.count(s)
        ]
        verdict = "PASSED" if self.passed else "FAILED"
        return f"{verdict} at level {self.level}: " + (", ".join(parts) or "no checks ran")
