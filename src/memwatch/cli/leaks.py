"""``memwatch leaks module:callable``: does it leak?

Exit codes (docs/leaks.md): 0 passed (no growth, or growth within ``--max-growth``),
1 a leak (growth over the budget, or of file descriptors or threads), 2 a bad target,
option or config value, 3 the operation raised or crashed the child (``--isolate``),
4 inconclusive (the measurement could not decide).
"""

from __future__ import annotations

import json
from typing import Any

import click

from memwatch.config.options import leak_options
from memwatch.config.schema import load_config
from memwatch.config.target import load_exception, resolve_target
from memwatch.errors import EXIT_CHECK_FAILED, EXIT_INCONCLUSIVE, EXIT_OK, OperationError
from memwatch.leaks.isolate import run_isolated
from memwatch.leaks.runner import detect_leaks
from memwatch.model.base import dump_document, write_document
from memwatch.model.leaks import LeakReport
from memwatch.units import Size

__all__ = ["command", "exit_code"]


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
            child = options.as_kwargs()
            budget = options.max_growth
            # the text travels to the child, so its report echoes the budget as typed
            child["max_growth"] = budget.typed if isinstance(budget, Size) and budget.typed else int(budget)
            report = run_isolated(target, expected_exceptions=expected, **child)
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
    return exit_code(report)


def exit_code(report: LeakReport) -> int:
    """0 passed, 1 a leak, 4 inconclusive: the verdict alone decides."""
    if report.failed:
        return EXIT_CHECK_FAILED
    return EXIT_OK if report.passed else EXIT_INCONCLUSIVE
