"""Plain text for a terminal or a log: runs, comparisons and benchmarks."""

from __future__ import annotations

from memwatch.model.base import Record
from memwatch.model.timeline import BenchmarkResult, ComparisonResult, RunResult
from memwatch.reporters import unsupported
from memwatch.reporters.tables import (
    Table,
    benchmark_table,
    comparison_tables,
    phase_table,
    run_facts,
)
from memwatch.units import format_value

__all__ = ["render", "table"]


def table(tab: Table, indent: str = "  ") -> list[str]:
    """Columns aligned with spaces; text columns left, figures right."""
    headers, rows = tab
    widths = [max(len(str(cell)) for cell in col) for col in zip(headers, *rows, strict=False)]
    lines = []
    for row in [headers, *rows]:
        cells = [
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=False))
        ]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def _run(run: RunResult) -> list[str]:
    title = "memwatch run" + (f": {run.label}" if run.label else "")
    lines = [title]
    facts = run_facts(run)
    width = max(len(k) for k, _ in facts)
    lines += [f"  {k.ljust(width)}  {v}" for k, v in facts]
    if run.phase_stats:
        lines += ["", "phases:", *table(phase_table(run))]
    return lines


def _comparison(cmp: ComparisonResult) -> list[str]:
    overall, phases = comparison_tables(cmp)
    lines = [
        f"memwatch compare: {cmp.before_label} -> {cmp.after_label} "
        f"(changes within {cmp.tolerance:.0%} count as unchanged)",
        *table(overall),
    ]
    if phases[1]:
        lines += ["", "phases:", *table(phases)]
    regressions = cmp.regressions
    improvements = [d.metric for d in cmp.overall if d.verdict == "improved"]
    for p in cmp.phases:
        improvements += [f"{p.name}#{p.occurrence}.{d.metric}" for d in p.deltas if d.verdict == "improved"]
    lines += [
        "",
        f"regressions: {', '.join(regressions) if regressions else 'none'}",
        f"improvements: {', '.join(improvements) if improvements else 'none'}",
    ]
    return lines


def _benchmark(bench: BenchmarkResult) -> list[str]:
    lines = [
        f"memwatch benchmark: {' '.join(bench.command)}",
        f"  {bench.iterations} runs" + (f", {bench.items:,} items per run" if bench.items else ""),
        *table(benchmark_table(bench)),
    ]
    runs = [
        f"  run {i + 1}: {format_value(t, 'seconds')}, peak {format_value(p, 'bytes')}"
        for i, (t, p) in enumerate(zip(bench.wall_times, bench.peaks, strict=True))
    ]
    failed = [i + 1 for i, r in enumerate(bench.runs) if r.exit != "exited" or r.exit_code != 0]
    lines += ["", *runs]
    if failed:
        lines.append(f"  failed runs: {', '.join(map(str, failed))}")
    return lines


def render(result: Record) -> str:
    if isinstance(result, RunResult):
        lines = _run(result)
    elif isinstance(result, ComparisonResult):
        lines = _comparison(result)
    elif isinstance(result, BenchmarkResult):
        lines = _benchmark(result)
    else:
        raise unsupported("text", result)
    return "\n".join(lines) + "\n"
