"""Verdicts of the checking markers; their failure text is written by
:mod:`memwatch.reporters.checks`, imported only when a check fails.

- :class:`LimitResult`: ``limit_memory`` / ``limit_native_memory`` - the body's peak
  over its start against a budget, with the allocation sites that grew when
  tracemalloc was on.
- :class:`LeakResult`: ``no_leaks`` - the leak engine's report. A ``leak`` verdict fails
  the test; ``growth`` within the budget and ``clean`` pass; ``inconclusive`` passes
  with a warning (:func:`warn_inconclusive`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from memwatch.model.pytest import AllocationSite, CheckOutcome
from memwatch.units import format_size

__all__ = ["InconclusiveLeakCheck", "LeakResult", "LimitResult", "warn_inconclusive"]


@dataclass(frozen=True)
class LimitResult:
    """A peak (bytes over the start of the body) against a limit (bytes)."""

    check: str
    limit: int
    peak: int | None
    source: str = ""
    sites: tuple[AllocationSite, ...] = ()
    tracemalloc: bool = False
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.peak is None or self.peak <= self.limit

    def failure_text(self) -> str:
        from memwatch.reporters.checks import limit_failure

        return limit_failure(
            self.check,
            self.limit,
            self.peak or 0,
            source=self.source,
            sites=self.sites,
            tracemalloc=self.tracemalloc,
        )

    def outcome(self) -> CheckOutcome:
        message = "" if self.passed else self.failure_text()
        detail = self.reason or (
            f"{format_size(self.peak)} of {format_size(self.limit)}"
            if self.peak is not None
            else "not measured"
        )
        return CheckOutcome(
            self.check,
            self.passed,
            self.limit,
            None if self.peak is None else float(self.peak),
            message,
            detail,
        )


@dataclass(frozen=True)
class LeakResult:
    """The leak engine's verdict on a test body (``report`` is a ``LeakReport``)."""

    report: Any
    max_growth: int | None = None

    @property
    def passed(self) -> bool:
        """False only on a ``leak`` verdict: an inconclusive measurement does not fail a test."""
        return not bool(self.report.failed)

    def failure_text(self) -> str:
        from memwatch.reporters.checks import no_leaks_failure

        return no_leaks_failure(self.report)

    def _projected(self) -> float | None:
        for name in ("projected_growth_per_1000", "growth_per_1000", "projected_per_1000"):
            value = getattr(self.report, name, None)
            if isinstance(value, int | float):
                return float(value)
        return None

    def outcome(self) -> CheckOutcome:
        verdict = str(getattr(self.report, "verdict", "")) or (
            "leak" if getattr(self.report, "leak_detected", False) else "clean"
        )
        severity = getattr(self.report, "severity", "")
        iterations = getattr(self.report, "iterations", None)
        detail = verdict + (f" ({severity})" if severity and severity != "none" else "")
        if isinstance(iterations, int):
            detail += f", {iterations:,} calls"
        return CheckOutcome(
            "no_leaks",
            self.passed,
            None if self.max_growth is None else int(self.max_growth),  # plain int: xdist sends it
            self._projected(),
            "" if self.passed else self.failure_text(),
            detail,
        )


class InconclusiveLeakCheck(UserWarning):
    """A ``no_leaks`` measurement that could not decide; the test passed unchecked."""


def warn_inconclusive(report: Any) -> None:
    """Warn (pytest lists it under the test) when a ``no_leaks`` verdict is inconclusive."""
    if getattr(report, "verdict", "") == "inconclusive":
        from memwatch.reporters.checks import inconclusive_text

        warnings.warn(inconclusive_text(report), InconclusiveLeakCheck, stacklevel=2)
