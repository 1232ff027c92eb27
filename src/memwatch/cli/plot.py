"""``memwatch plot``: memory over time, change rate, phase bands and the peak, as PNG or SVG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from memwatch.errors import UsageError
from memwatch.model.timeline import BenchmarkResult, RunResult
from memwatch.reporters.plot import write_plot

__all__ = ["command"]


@click.command("plot")
@click.argument("files", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    default=None,
    metavar="FILE",
    help="Image to write: .png or .svg (default: the first file with .png).",
)
def command(files: Sequence[str], output: str | None) -> int:
    """Plot saved runs (FILES): one run with its phases and peak, several runs overlaid."""
    from memwatch.cli.report import load_result
    from memwatch.cli.run import check_output_path

    target = check_output_path(output if output is not None else Path(files[0]).with_suffix(".png"))
    results = [load_result(f) for f in files]
    runs: list[RunResult] = []
    for path, result in zip(files, results, strict=True):
        if isinstance(result, RunResult):
            runs.append(result)
        elif isinstance(result, BenchmarkResult):
            runs.extend(result.runs)
        else:
            raise UsageError(f"{path}: holds a {result.KIND!r} result; plot takes runs and benchmarks")
    write_plot(runs, target)
    click.echo(f"memwatch: wrote {target}", err=True)
    return 0
