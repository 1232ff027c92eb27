"""The failure text of the pytest plugin's checking markers (``limit_memory``,
``limit_native_memory``, ``no_leaks``), loaded only when a check fails."""

from __future__ import annotations

from collections.abc import Sequence

from memwatch.model.leaks import LeakReport
from memwatch.model.pytest import AllocationSite
from memwatch.reporters.leaks import explain, summary
from memwatch.units import format_size, format_value

__all__ = ["inconclusive_text", "limit_failure", "no_leaks_failure"]

_WHAT = {
    "limit_memory": ("peak RSS", "RSS"),
    "limit_native_memory": ("peak glibc heap in use", "glibc heap"),
}


def _size(nbytes: float) -> str:
    return f"{format_size(nbytes, binary=False)} = {format_size(nbytes)}"


def limit_failure(
    check: str,
    limit: int,
    peak: int,
    *,
    source: str = "",
    sites: Sequence[AllocationSite] = (),
    tracemalloc: bool = False,
) -> str:
    """Why a test body's peak failed its ``limit_memory`` / ``limit_native_memory``."""
    what, signal = _WHAT.get(check, ("peak", "memory"))
    lines = [
        f"@pytest.mark.{check}: the test body's {what} exceeded its limit",
        f"  limit:    {_size(limit)} ({limit:,} bytes)",
        f"  measured: {_size(peak)} ({peak:,} bytes) above the {signal} at the start "
        f"of the body{f' ({source})' if source else ''}, {_size(peak - limit)} over",
    ]
    if sites:
        lines.append(
            "  biggest allocation sites live at the body's traced peak (tracemalloc, new since its start):"
        )
        lines.extend(
            f"    {format_value(site.size, 'bytes'):>10}  {site.count:>7,} blocks  {site.where}"
            for site in sites
        )
    elif not tracemalloc:
        lines.append("  (run with --memwatch-tracemalloc to see the biggest allocation sites)")
    return "\n".join(lines)


def no_leaks_failure(report: LeakReport) -> str:
    """Why a ``no_leaks`` test failed: the leak report's own explanation."""
    return f"@pytest.mark.no_leaks: the leak engine found a leak in the test body\n{explain(report).rstrip()}"


def inconclusive_text(report: LeakReport) -> str:
    """The warning of a ``no_leaks`` test whose measurement could not decide (the test passes)."""
    return f"@pytest.mark.no_leaks could not decide, the test passes unchecked: {summary(report)}"
