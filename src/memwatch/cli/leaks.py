"""``memwatch leaks module:callable``: does it leak? Exit 1 when a leak exceeds the budget."""

from __future__ import annotations

import json
from typing import Any

import click

from memwatch.config.options import leak_options
from memwatch.config.schema import load_config
from memwatch.config.target import load_exception, resolve_target
from memwatch.errors import OperationError
from memwatch.leaks.isolate import run_isolated
from memwatch.leaks.runner import detect_leaks
from memwatch.model.base import dump_document, write_document
from memwatch.model.leaks import LeakReport

__all__ = ["command"]


@click.command("leaks")
@click.argument("target")
@click.option(
    "--iterations",
    type=click.IntRange(min=1),
    default=None,
    help="Cap on measured calls (default: adaptive, stop when confident).",
)
@click.option(
    "--warmup",
    type=click.IntRange(min=0),
    default=None,
    help="Warm-up calls (default: until the signals settle).",
)
@click.option(
    "--max-growth",
    default=None,
    help="Budget per 1,000 calls; a leak above it exits 1 (default: leaks.max_growth "
    "from memwatch.yaml / pyproject.toml, else 1 MB).",
)
@click.option(
    "--time-budget", default=None, help="Time for the measurement (default: leaks.time_budget, else 10s)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also save the report (JSON document) to this file.",
)
@click.option("--isolate", is_flag=True, help="Run in a child process: a crash cannot take memwatch down.")
@click.option("--no-attribution", is_flag=True, help="Skip allocation sites and retention paths.")
@click.option(
    "--expect",
    "expect",
    multiple=True,
    metavar="EXCEPTION",
    help="An exception the operation raises on purpose (ValueError, or module:Class); repeatable.",
)
def command(
    target: str,
    iterations: int | None,
    warmup: int | None,
    max_growth: str | None,
    time_budget: str | None,
    as_json: bool,
    output: str | None,
    isolate: bool,
    no_attribution: bool,
    expect: tuple[str, ...],
) -> int:
    """Decide with statistics whether TARGET (module:callable) leaks memory.

    Calls it repeatedly, measures allocated blocks, the native heap, RSS, open files
    and threads after each round, and decides with a trend test. Exit codes: 0 no
    leak (or one within --max-growth, or inconclusive), 1 a leak over the budget,
    2 a bad target or option, 3 the operation raised or crashed. Defaults come from
    the 'leaks' section of memwatch.yaml or [tool.memwatch.leaks] in pyproject.toml.
    """
    flags: dict[str, Any] = {
        "iterations": iterations,
        "warmup": warmup,
        "max_growth": max_growth,
        "time_budget": time_budget,
        "attribute": False if no_attribution else None,
    }
    options = leak_options(door=flags, config=load_config())
    expected = tuple(load_exception(name) for name in expect)
    try:
        report: LeakReport
        if isolate:
            report = run_isolated(target, expected_exceptions=expected, **options.as_kwargs())
        else:
            func = resolve_target(target, no_args=True)
            report = detect_leaks(func, expected_exceptions=expected, options=options)
    except OperationError as exc:
        if exc.traceback_text:
            click.echo(exc.traceback_text.rstrip(), err=True)
        raise
    if output is not None:
        write_document(report, output)
    if as_json:
        click.echo(json.dumps(dump_document(report), sort_keys=True, indent=1, allow_nan=False))
    else:
        click.echo(report.explain())
    return 0 if report.passed else 1
