"""``memwatch compare``: two saved runs, overall and per phase.

Exit code 0 (a comparison is a report); with ``--fail-on-regression`` 1 when any
metric regressed beyond the tolerance.
"""

from __future__ import annotations

import click

from memwatch.errors import ConfigError
from memwatch.model.timeline import RunResult
from memwatch.reporters import render
from memwatch.runcompare import compare_runs
from memwatch.units import parse_size

__all__ = ["command", "parse_tolerance"]


def parse_tolerance(text: str) -> float:
    """``"5%"`` or ``"0.05"`` -> 0.05."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ConfigError(f"--tolerance {text!r}: expected a percentage such as 5% "
                          "or a fraction such as 0.05") from None
    if not 0 <= value < 10:
        raise ConfigError(f"--tolerance {text!r}: must be between 0% and 1000%")
    return value


@click.command("compare")
@click.argument("before")
@click.argument("after")
@click.option("-f", "--format", "fmt", default="text", show_default=True, help="text, md or json.")
@click.option("--tolerance", default="5%", show_default=True,
              help="Changes within this share of the earlier value count as unchanged.")
@click.option("--min-change", default="1 MiB", show_default=True,
              help="Memory changes below this count as unchanged (noise floor).")
@click.option("--fail-on-regression", is_flag=True, help="Exit 1 when any metric regressed.")
@click.option("-o", "--output", default=None, metavar="FILE", help="Write the report here instead of stdout.")
def command(before: str, after: str, fmt: str, tolerance: str, min_change: str,
            fail_on_regression: bool, output: str | None) -> int:
    """Compare two saved runs (BEFORE, AFTER): time, peak and growth, overall and per phase."""
    from memwatch.cli.report import emit, load_result

    tol = parse_tolerance(tolerance)
    floor = parse_size(min_change)
    old = load_result(before, expected=RunResult)
    new = load_result(after, expected=RunResult)
    assert isinstance(old, RunResult)
    assert isinstance(new, RunResult)
    result = compare_runs(old, new, tolerance=tol, min_bytes=floor,
                          before_label=old.label or before, after_label=new.label or after)
    emit(render(result, fmt), output)
    if fail_on_regression and result.regressions:
        click.echo(f"memwatch: regressed: {', '.join(result.regressions)}", err=True)
        return 1
    return 0
