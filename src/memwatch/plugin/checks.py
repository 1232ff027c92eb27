"""Verdicts of the checking markers; each result object writes its own failure text.

- :class:`LimitResult`: ``limit_memory`` / ``limit_native_memory`` - the body's peak
  over its start against a budget, with the allocation sites that grew when
  tracemalloc was on.
- :class:`LeakResult`: ``no_leaks`` - the leak engine's report; the failure text is
  the engine's own explanation (signal, growth, sites, retention path).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memwatch.model.pytest import AllocationSite, CheckOutcome
from memwatch.units import format_size

__all__ = ["LeakResult", "LimitResult"]

_WHAT = {
    "limit_memory": ("peak RSS", "RSS"),
    "limit_native_memory": ("peak glibc heap in use", "glibc heap"),
}


def _size(nbytes: float) -> str:
    return f"{format_size(nbytes, binary=False)} = {format_size(nbytes)}"


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
        what, signal = _WHAT.get(self.check, ("peak", "memory"))
        peak = self.peak or 0
        lines = [
            f"@pytest.mark.{self.check}: the test body's {what} exceeded its limit",
            f"  limit:    {_size(self.limit)} ({self.limit:,} bytes)",
            f"  measured: {_size(peak)} ({peak:,} bytes) above the {signal} at the start "
            f"of the body{f' ({self.source})' if self.source else ''}, {_size(peak - self.limit)} over",
        ]
        if self.sites:
            lines.append(
                "  biggest allocation sites live at the body's traced peak "
                "(tracemalloc, new since its start):"
            )
            lines.extend(
                f"    {format_size(site.size):>10}  {site.count:>7,} blocks  {site.where}"
                for site in self.sites
            )
        elif not self.tracemalloc:
            lines.append("  (run with --memwatch-tracemalloc to see the biggest allocation sites)")
        return "\n".join(lines)

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
        return bool(self.report.passed)

    def failure_text(self) -> str:
        explanation = str(self.report.explain()).rstrip()
        return f"@pytest.mark.no_leaks: the leak engine found a leak in the test body\n{explanation}"

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
            self.max_growth,
            self._projected(),
            "" if self.passed else self.failure_text(),
            detail,
        )
