"""Markdown (GitHub flavour) for pull requests and job summaries."""

from __future__ import annotations

from memwatch.model.base import Record
from memwatch.model.timeline import BenchmarkResult, ComparisonResult, RunResult
from memwatch.reporters import unsupported
from memwatch.reporters.tables import Table, benchmark_table, comparison_tables, phase_table, run_facts

__all__ = ["render", "table"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip() or " "


def table(tab: Table) -> list[str]:
    """A pipe table; figures right-aligned."""
    headers, rows = tab
    lines = [
        "| " + " | ".join(_cell(h) for h in headers) + " |",
        "|" + "|".join([":---"] + ["---:"] * (len(headers) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _run(run: RunResult) -> list[str]:
    lines = ["## memwatch run" + (f": {run.label}" if run.label else ""), ""]
    lines += [f"- **{k}**: {_cell(v)}" for k, v in run_facts(run)]
    if run.phase_stats:
        lines += ["", "### Phases", "", *table(phase_table(run))]
    return lines


def _comparison(cmp: ComparisonResult) -> list[str]:
    overall, phases = comparison_tables(cmp)
    lines = [
        f"## memwatch compare: `{cmp.before_label}` → `{cmp.after_label}`",
        "",
        f"Changes within {cmp.tolerance:.0%} count as unchanged.",
        "",
        *table(overall),
    ]
    if phases[1]:
        lines += ["", "### Phases", "", *table(phases)]
    regressions = cmp.regressions
    lines += ["", f"**Regressions:** {', '.join(regressions) if regressions else 'none'}"]
    return lines


def _benchmark(bench: BenchmarkResult) -> list[str]:
    return [
        f"## memwatch benchmark: `{' '.join(bench.command)}`",
        "",
        f"{bench.iterations} runs" + (f", {bench.items:,} items per run" if bench.items else ""),
        "",
        *table(benchmark_table(bench)),
    ]


def render(result: Record) -> str:
    if isinstance(result, RunResult):
        lines = _run(result)
    elif isinstance(result, ComparisonResult):
        lines = _comparison(result)
    elif isinstance(result, BenchmarkResult):
        lines = _benchmark(result)
    else:
        raise unsupported("markdown", result)
    return "\n".join(lines) + "\n"
