"""``memwatch gc module:callable``: garbage-collection pauses, frequency and cost of a callable."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import os

import click

from memwatch.config.options import gc_options
from memwatch.config.schema import load_config
from memwatch.config.target import resolve_target
from memwatch.errors import OperationError, UsageError
from memwatch.gcwatch.advisor import advise
from memwatch.gcwatch.latency import check_iterations
from memwatch.gcwatch.optimizer import GCOptimizer
from memwatch.gcwatch.reclamation import measure_reclamation
from memwatch.gcwatch.validator import GCPerformanceValidator
from memwatch.model.base import dump_document, write_document
from memwatch.model.gc import GCReport
from memwatch.units import parse_thresholds

__all__ = ["command"]


@click.command("gc")
@click.argument("target")
@click.option(
    "-n",
    "--iterations",
    default=None,
    type=int,
    help="How many times to call the target (default: gc.iterations from the config file, else 1000).",
)
@click.option(
    "--max-pause-p95",
    "max_p95",
    default=None,
    type=float,
    help="Fail (exit 1) when the pause p95 in ms is above this (default: gc.pause_p95_ms, else 100).",
)
@click.option(
    "--thresholds",
    "thresholds_text",
    metavar="T0[,T1[,T2]]",
    help="Run with these gc thresholds (restored afterwards), e.g. to try the advice.",
)
@click.option(
    "--freeze",
    is_flag=True,
    help="gc.freeze() after importing TARGET (its module state is the warm-up), undone afterwards.",
)
@click.option(
    "--reclaim",
    is_flag=True,
    help="Also run the calls once more and report what memory "
    "came back after a full collection (and after malloc_trim).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Save the report as JSON here.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as a JSON document.")
def command(
    target: str,
    iterations: int | None,
    max_p95: float | None,
    thresholds_text: str | None,
    freeze: bool,
    reclaim: bool,
    output: str | None,
    as_json: bool,
) -> int:
    """Measure garbage-collection pauses and cost of TARGET (module:callable).

    Calls TARGET with no arguments ITERATIONS times (awaiting it when it is async)
    under a monitor on gc.callbacks, then prints pauses per generation, collections
    per call, objects reclaimed per ms of pause, the latency of calls with and
    without a collection, and tuning advice (--thresholds and --freeze try it).
    Limits come from the gc section of memwatch.yaml / [tool.memwatch.gc] (pause p95
    100 ms by default; --max-pause-p95 overrides it). Exit 1 when a limit is broken,
    2 for a bad target, option or config, 3 when TARGET raises.
    """
    flags = {"iterations": iterations, "thresholds": {"max_pause_p95_ms": max_p95}}
    options = gc_options(door=flags, config=load_config())
    n = check_iterations(options.iterations)
    validator = GCPerformanceValidator(options.thresholds)
    if output and not os.path.isdir(os.path.dirname(os.path.abspath(output))):
        raise UsageError(
            f"cannot write {output}: folder {os.path.dirname(os.path.abspath(output))} does not exist"
        )
    optimizer = GCOptimizer(_parse_thresholds(thresholds_text), freeze=freeze)
    func = resolve_target(target, no_args=True)
    try:
        with optimizer:
            report: GCReport = asyncio.run(validator.test_gc_frequency(func, n, component_name=target))
        if reclaim:

            def workload() -> None:
                for _ in range(n):
                    result = func()
                    if asyncio.iscoroutine(result):
                        asyncio.run(result)

            report = dataclasses.replace(report, reclamation=measure_reclamation(workload, component=target))
    except OperationError as exc:  # the target raised: its traceback (its own frames), then one line
        if exc.traceback_text:
            click.echo(exc.traceback_text.rstrip(), err=True)
        raise
    verdict = validator.validate_gc_efficiency(report)
    if output:
        write_document(report, output)
    if as_json:
        click.echo(json.dumps(dump_document(report), sort_keys=True, indent=1, allow_nan=False))
    else:
        click.echo(report.summary())
        if report.reclamation is not None:
            click.echo(_reclaim_text(report))
        click.echo("advice:")
        click.echo(advise(report).summary())
        for check in verdict.checks:
            click.echo(f"{'PASS' if check.passed else 'FAIL'} {check.message}")
    return 0 if verdict.passed else 1


def _parse_thresholds(text: str | None) -> tuple[int, ...] | None:
    return None if text is None else parse_thresholds(text)


def _reclaim_text(report: GCReport) -> str:
    rec = report.reclamation
    assert rec is not None
    lines = ["memory reclamation after a full collection:"]
    for s in rec.signals:
        lines.append(
            f"  {s.name:<12} before {s.before:>14,.0f}  peak {s.peak:>14,.0f} ({s.peak_source})  "
            f"after {s.after:>14,.0f} {s.unit}  returned "
            + ("-" if math.isnan(s.returned) else f"{s.returned:.0%}")
        )
    if rec.rss_after_trim is not None:
        lines.append(f"  rss after malloc_trim(0): {rec.rss_after_trim:,.0f} bytes")
    if rec.remedy:
        lines.append(f"  remedy: {rec.remedy}")
    return "\n".join(lines)
