"""Text and Markdown views of a validation-suite report (Markdown fits a PR comment)."""

from __future__ import annotations

from memwatch.model.suite import SuiteReport
from memwatch.units import format_duration, format_value

__all__ = ["render_markdown", "render_text"]

_ICON = {"pass": "✅", "warn": "⚠️", "fail": "❌", "error": "💥", "skipped": "⏭️"}


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: SuiteReport) -> str:
    lines = [
        f"## memwatch validation — {report.level}",
        "",
        f"**{report.headline}** in {format_duration(report.duration)}",
        "",
        "| Component | Check | Status | Severity | Summary |",
        "|---|---|---|---|---|",
    ]
    for o in report.outcomes:
        lines.append(
            f"| {_md_cell(o.component)} | {o.check} | {_ICON[o.status]} {o.status} | "
            f"{o.severity} | {_md_cell(o.summary)} |"
        )
    notable = [o for o in report.outcomes if o.status in ("warn", "fail", "error")]
    for o in notable:
        lines += ["", f"### {_ICON[o.status]} {o.component} · {o.check}", "", o.summary]
        if o.metrics:
            lines += [
                "",
                *(f"- {k}: {format_value(o.metrics[k], o.units.get(k, ''))}" for k in sorted(o.metrics)),
            ]
        if o.details:
            lines += [
                "",
                "<details><summary>Details</summary>",
                "",
                "```",
                o.details.rstrip(),
                "```",
                "",
                "</details>",
            ]
    lines += [
        "",
        f"<sub>config: {report.config_source or '(defaults)'} · python "
        f"{report.environment.get('python', '?')}</sub>",
        "",
    ]
    return "\n".join(lines)


def render_text(report: SuiteReport) -> str:
    width = max((len(o.component) for o in report.outcomes), default=9)
    lines = []
    for o in report.outcomes:
        lines.append(
            f"{o.status.upper():<7} {o.component:<{width}}  {o.check:<10} "
            f"{format_duration(o.duration):>9}  {o.summary}"
        )
    lines.append(report.headline + f" in {format_duration(report.duration)}")
    return "\n".join(lines) + "\n"
