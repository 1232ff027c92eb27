"""Text and Markdown for A/B comparisons and for regression reports (stored runs compared)."""

from __future__ import annotations

import math

from memwatch.model.abtest import ABComparison, ABMetric
from memwatch.model.regression import MetricCheck, RegressionReport
from memwatch.units import format_duration, format_size

__all__ = ["ab_markdown", "ab_text", "regression_markdown", "regression_text"]


def _amount(value: float | None, unit: str, *, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    if unit == "bytes":
        return format_size(value, signed=signed)
    if unit in ("seconds", "s"):
        text = format_duration(abs(value))
        return ("+" if value > 0 else "-" if value < 0 else "") + text if signed else text
    sign = "+" if signed else ""
    return f"{value:{sign},.0f}" if float(value).is_integer() else f"{value:{sign},.4g}"


def _ratio(m: ABMetric) -> str:
    if m.ratio is None:
        return "–"
    ci = f" [{m.ci_low:.2f}–{m.ci_high:.2f}]" if m.ci_low is not None and m.ci_high is not None else ""
    return f"{m.ratio:.2f}x{ci}"


def _p(value: float | None) -> str:
    return "–" if value is None else f"{value:.2g}"


def _ab_rows(result: ABComparison) -> list[list[str]]:
    return [
        [
            m.metric,
            _amount(m.a_median, m.unit),
            _amount(m.b_median, m.unit),
            _amount(m.delta, m.unit, signed=True),
            _ratio(m),
            _p(m.p_value),
            m.verdict,
        ]
        for m in result.metrics
    ]


_AB_HEAD = ["metric", "A", "B", "B - A", "B/A (95% CI)", "p", "verdict"]


def ab_text(result: ABComparison) -> str:
    rows = [_AB_HEAD, *_ab_rows(result)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_AB_HEAD))]
    lines = [
        f"A: {result.a}",
        f"B: {result.b}",
        f"{result.samples} alternating samples of {result.batch} calls each "
        f"(tolerance {result.tolerance:.0%}, alpha {result.alpha:g})",
        "",
    ]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines) + "\n"


def ab_markdown(result: ABComparison) -> str:
    lines = [
        f"## A/B: `{result.a}` vs `{result.b}`",
        "",
        f"{result.samples} alternating samples of {result.batch} calls each",
        "",
        "| " + " | ".join(_AB_HEAD) + " |",
        "|" + "---|" * len(_AB_HEAD),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in _ab_rows(result)]
    return "\n".join(lines) + "\n"


def _check_row(c: MetricCheck) -> list[str]:
    rel = "–" if c.relative is None else f"{c.relative * 100:+.1f}%"
    status = c.status + (f" ({c.severity})" if c.status == "regressed" else "")
    limit = "–" if c.threshold is None else f"{c.threshold:g}%"
    return [
        c.test_id,
        c.metric,
        c.better,
        _amount(c.baseline_value, c.unit),
        _amount(c.current_value, c.unit),
        rel,
        limit,
        _p(c.p_value),
        status,
    ]


_REG_HEAD = ["test", "metric", "better", "before", "after", "change", "threshold", "p", "status"]


def regression_text(report: RegressionReport) -> str:
    rows = [_REG_HEAD, *(_check_row(c) for c in report.checks)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_REG_HEAD))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([*lines, "", report.summary()]) + "\n"


def regression_markdown(report: RegressionReport) -> str:
    lines = ["| " + " | ".join(_REG_HEAD) + " |", "|" + "---|" * len(_REG_HEAD)]
    lines += [
        "| " + " | ".join(cell.replace("|", "\\|") for cell in _check_row(c)) + " |" for c in report.checks
    ]
    return "\n".join([f"**{report.summary()}**", "", *lines]) + "\n"
