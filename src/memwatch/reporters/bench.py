"""Text for people about the memory benchmark set (:class:`~memwatch.model.bench.BenchReport`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from memwatch.units import format_size

if TYPE_CHECKING:
    from memwatch.model.bench import BenchMetric, BenchReport

__all__ = ["bench_summary", "fmt_number", "metric_line"]


def metric_line(report: BenchMetric) -> str:
    """``name  value unit  (>= threshold)  PASS``, for people."""
    op = ">=" if report.direction == "min" else "<="
    bar = f"({op} {fmt_number(report.threshold)})"
    return f"{report.name:<22} {fmt_number(report.value):>12} {report.unit:<10} {bar:<14} {report.verdict}"


def bench_summary(report: BenchReport) -> str:
    """A header naming the machine, one line per benchmark, and the overall verdict."""
    mc = report.machine
    head = (
        f"memory benchmarks on {mc.host} ({mc.system} {mc.machine}, {mc.cpu_count} CPUs, "
        f"{mc.cpu or 'unknown CPU'}; {mc.implementation} {mc.python})"
        f"{' [quick]' if report.quick else ''}"
    )
    load = f", load {mc.load_1m:.2f}" if mc.load_1m is not None else ""
    memory = (
        f"memory {format_size(mc.memory_total)}, limit {format_size(mc.memory_limit)} "
        f"from {mc.memory_limit_source}{load}"
    )
    lines = [head, memory, *(metric_line(m) for m in report.metrics)]
    failed = len(report.failures)
    lines.append(f"{len(report.metrics) - failed} passed, {failed} failed in {report.duration:.1f} s")
    return "\n".join(lines)


def fmt_number(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if abs(value) >= 1e5:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.1f}"
    return f"{value:.3g}"
