"""The rows that the text and Markdown reports share: each result as headers and cells.

Presentation only: every figure here was computed by the engine that built the result.
"""

from __future__ import annotations

import datetime as _dt
import math

from memwatch.model.timeline import BenchmarkResult, ComparisonResult, MetricDelta, RunResult
from memwatch.units import format_value

__all__ = [
    "Table",
    "benchmark_table",
    "comparison_tables",
    "phase_table",
    "run_facts",
]

Table = tuple[list[str], list[list[str]]]


def _exit_text(run: RunResult) -> str:
    if run.exit == "exited":
        return f"exited with code {run.exit_code}"
    if run.exit == "signal":
        return f"killed by signal {run.signal}"
    if run.exit == "interrupted":
        how = f"exit code {run.exit_code}" if run.exit_code is not None else f"signal {run.signal}"
        return f"interrupted (Ctrl-C or SIGTERM to memwatch; the command ended with {how})"
    return run.exit


def run_facts(run: RunResult) -> list[tuple[str, str]]:
    """Key facts of a run as (label, text) pairs."""
    tl = run.timeline
    unit = tl.units.get(run.primary_signal, "bytes")
    values = tl.signals.get(run.primary_signal)
    peak_at = ""
    if values is not None and len(tl) and not math.isnan(run.peak):
        hits = [i for i, v in enumerate(values.tolist()) if v == run.peak]
        if hits:
            peak_at = f" at {float(tl.t[hits[0]]):.2f} s"
    facts = []
    if run.command:
        facts.append(("command", " ".join(run.command)))
        facts.append(("exit", _exit_text(run)))
    if run.label:
        facts.append(("label", run.label))
    if tl.started_at:
        when = _dt.datetime.fromtimestamp(tl.started_at, tz=_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        facts.append(("started", when))
    facts += [
        ("duration", format_value(run.duration, "seconds")),
        (
            "peak",
            f"{format_value(run.peak, unit)} ({run.primary_signal}, {run.peak_source or 'sampled'}){peak_at}",
        ),
        ("start -> end", f"{format_value(run.start_memory, unit)} -> {format_value(run.end_memory, unit)}"),
        ("growth", format_value(run.growth, unit, signed=True)),
        (
            "samples",
            f"{len(tl)} every {format_value(tl.interval, 'seconds')} ({tl.mode} mode; "
            f"{tl.late_samples} late, {tl.missed_samples} missed"
            + (f"; downsampled x{tl.downsampled}" if tl.downsampled > 1 else "")
            + ")",
        ),
        (
            "signals",
            ", ".join(sorted(tl.signals, key=lambda n: (n != run.primary_signal, n)))
            + "".join(f"; {k} unavailable ({v})" for k, v in tl.unavailable.items()),
        ),
    ]
    return facts


def phase_table(run: RunResult) -> Table:
    unit = run.timeline.units.get(run.primary_signal, "bytes")
    headers = ["phase", "start", "duration", "start mem", "peak", "end mem", "change"]
    rows = [
        [
            "  " * s.depth + s.name,
            f"{s.start:.2f} s",
            format_value(s.duration, "seconds"),
            format_value(s.start_memory, unit),
            format_value(s.peak_memory, unit),
            format_value(s.end_memory, unit),
            format_value(s.delta_memory, unit, signed=True),
        ]
        for s in run.phase_stats
    ]
    return headers, rows


def _delta_row(label: str, d: MetricDelta) -> list[str]:
    percent = "–" if d.percent is None else f"{d.percent:+.1f}%"
    return [
        label,
        format_value(d.before, d.unit),
        format_value(d.after, d.unit),
        format_value(d.delta, d.unit, signed=True),
        percent,
        d.verdict,
    ]


def comparison_tables(cmp: ComparisonResult) -> tuple[Table, Table]:
    """(overall, per phase) tables of a comparison."""
    headers = ["metric", "before", "after", "change", "%", "verdict"]
    overall = [_delta_row(d.metric, d) for d in cmp.overall]
    phases: list[list[str]] = []
    for p in cmp.phases:
        label = p.name if p.occurrence == 1 else f"{p.name} #{p.occurrence}"
        if p.only_in != "both":
            phases.append([label, f"only in {p.only_in}", "", "", "", ""])
            continue
        phases.extend(_delta_row(f"{label}: {d.metric}", d) for d in p.deltas)
    return (headers, overall), (["phase: metric", *headers[1:]], phases)


def benchmark_table(bench: BenchmarkResult) -> Table:
    units = {"wall_time": "seconds", "peak": "bytes", "rate": "items/s"}
    headers = ["metric", "mean", "median", "stdev", "min", "max"]
    rows = []
    order = {"wall_time": 0, "peak": 1, "rate": 2}
    for metric, summary in sorted(bench.summary.items(), key=lambda kv: (order.get(kv[0], 3), kv[0])):
        unit = units.get(metric, "")
        rows.append(
            [metric] + [format_value(summary.get(k), unit) for k in ("mean", "median", "stdev", "min", "max")]
        )
    return headers, rows
