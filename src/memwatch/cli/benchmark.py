"""``memwatch benchmark``: run a command N times; wall time, peak, rate; mean/median/stdev.

Exit code 0 when every run succeeded, 1 when one failed (all are still reported),
2 for a usage error, 130 after Ctrl-C (the runs done so far are reported).
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from memwatch.errors import UsageError
from memwatch.model.base import write_document
from memwatch.model.timeline import RunResult
from memwatch.reporters import render
from memwatch.runs.repeat import benchmark_command
from memwatch.units import format_value

__all__ = ["command"]


@click.command("benchmark", context_settings={"allow_interspersed_args": False})
@click.option("-n", "--iterations", default=3, show_default=True, type=int, help="How many runs.")
@click.option("--items", default=None, type=int, help="Items each run processes: reports items/s.")
@click.option("--interval", default="10ms", show_default=True, help="Sampling interval.")
@click.option("--signals", default=None, metavar="NAMES", help="Comma-separated: rss, vms, processes.")
@click.option("-f", "--format", "fmt", default="text", show_default=True, help="text, md or json.")
@click.option("-o", "--output", default=None, metavar="FILE", help="Also save the benchmark result (JSON).")
@click.option("-q", "--quiet", is_flag=True, help="No per-run progress lines.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def command(
    iterations: int,
    items: int | None,
    interval: str,
    signals: str | None,
    fmt: str,
    output: str | None,
    quiet: bool,
    command: Sequence[str],
) -> int:
    """Run COMMAND N times and summarise time, peak memory and rate.

    \b
    memwatch benchmark --iterations 3 --items 140000 -- python job.py
    """
    from memwatch.cli.run import check_output_path, parse_interval, parse_signals
    from memwatch.reporters import FORMATS

    seconds = parse_interval(interval)
    names = parse_signals(signals)
    if fmt not in FORMATS:  # refuse before anything runs
        raise UsageError(f"unknown report format {fmt!r}; use text, md or json")
    if not command:
        raise UsageError("no command to run: give one after --, e.g. memwatch benchmark -- python job.py")
    target = check_output_path(output) if output is not None else None

    def progress(i: int, run: RunResult, wall: float) -> None:
        if not quiet:
            ended = (
                ("ok" if run.exit_code == 0 else f"exit code {run.exit_code}")
                if run.exit == "exited"
                else f"signal {run.signal}"
                if run.exit == "signal"
                else run.exit
            )
            click.echo(
                f"memwatch: run {i + 1}/{iterations}: {format_value(wall, 'seconds')}, "
                f"peak {format_value(run.peak, 'bytes')} ({ended})",
                err=True,
            )

    result = benchmark_command(
        list(command), iterations, items=items, interval=seconds, signals=names, on_run=progress
    )
    if target is not None:
        write_document(result, target)
    click.echo(render(result, fmt), nl=False)
    if any(r.exit == "interrupted" for r in result.runs):
        return 130
    return 0 if all(r.exit == "exited" and r.exit_code == 0 for r in result.runs) else 1
