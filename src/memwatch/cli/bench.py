"""``memwatch bench``: the memory benchmark set with PASS/FAIL thresholds."""

from __future__ import annotations

import click

from memwatch.benchset.history import TEST_ID, compare_with_baselines, record_benchmarks
from memwatch.benchset.runner import BENCHMARKS, record_wanted, run_memory_benchmarks
from memwatch.cli._options import db_option
from memwatch.cli._outpath import check_writable
from memwatch.config.schema import load_config
from memwatch.model.base import write_document
from memwatch.model.regression import RegressionReport

__all__ = ["command"]


@click.command("bench")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    help="Also save the report (versioned JSON) to this file.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file with a bench.thresholds section (default: memwatch.yaml or "
    "pyproject.toml found upwards).",
)
@click.option("--quick", is_flag=True, help="Smaller workloads: about a second in all.")
@click.option(
    "--only",
    multiple=True,
    metavar="NAME",
    type=click.Choice([b.name for b in BENCHMARKS]),
    help=f"Run only this benchmark (repeatable): {', '.join(b.name for b in BENCHMARKS)}.",
)
@click.option(
    "--record",
    is_flag=True,
    help="Record the results in the history database and compare them with the baselines there "
    "(also when bench.record is true).",
)
@db_option
def command(
    json_path: str | None,
    config_path: str | None,
    quick: bool,
    only: tuple[str, ...],
    record: bool,
    db: str | None,
) -> int:
    """Run the memory benchmark set: allocation rate, pool rate, memory bandwidth,
    GC pause mean and p99, cache hit rate and cache latency, each against a threshold.

    Prints one line per benchmark with PASS or FAIL and the machine it ran on.
    Thresholds come from the config's bench.thresholds. With --record, each benchmark
    is also compared with its baseline in the history database (rates regress when they
    fall, times when they rise; percent per benchmark from regression.thresholds); one
    without a baseline gets this run's. Exit 0 when all pass, 1 when one fails its
    threshold or regressed against its baseline, 2 for a bad option or config.
    """
    if json_path is not None:
        check_writable(json_path)
    config = load_config(config_path)
    recording = record or record_wanted(config)
    from memwatch.store.engine import configured_url

    url = configured_url(db, config)  # the same database as every other command
    if recording:  # a bad database is refused before the run, not after it
        from memwatch.store.db import open_store

        open_store(url).close()
    report = run_memory_benchmarks(config, quick=quick, only=only or None)
    click.echo(report.summary())
    if json_path is not None:
        write_document(report, json_path)
        click.echo(f"report saved to {json_path}")
    regressed: list[str] = []
    if recording:
        from memwatch.store.db import open_store

        with open_store(url) as store:
            run_id = record_benchmarks(report, store=store)
            click.echo(f"recorded as run {run_id} (see: memwatch history {TEST_ID} --metric <benchmark>)")
            check = compare_with_baselines(store, run_id, config.regression)
        regressed = _print_comparison(check)
    rc = 0
    if report.failures:
        names = ", ".join(m.name for m in report.failures)
        click.echo(f"memwatch: {len(report.failures)} benchmark(s) failed their threshold: {names}", err=True)
        rc = 1
    if regressed:
        click.echo(
            f"memwatch: {len(regressed)} benchmark(s) regressed against their baselines: {', '.join(regressed)}",
            err=True,
        )
        rc = 1
    return rc


def _print_comparison(check: RegressionReport) -> list[str]:
    """One line per benchmark against its baseline; the names of those that regressed."""
    from memwatch.reporters.bench import fmt_number

    click.echo(f"against the baselines ({check.env_key}):")
    regressed = []
    for c in check.checks:
        if c.status == "new":
            click.echo(f"  {c.metric}: no baseline yet, this run's is now")
            continue
        if c.baseline_value is None:
            click.echo(f"  {c.metric}: {c.reason}")
            continue
        parts = [] if c.relative is None else [f"{c.relative * 100:+.1f}%"]
        parts += [] if c.threshold is None else [f"threshold {c.threshold:g}%"]
        change = f" ({', '.join(parts)})" if parts else ""
        verdict = c.status + (f" ({c.severity})" if c.status == "regressed" else "")
        verdict += ", baseline moved" if c.baseline_updated else ""
        verdict += f"; gate {', '.join(c.gates_failed)} failed" if c.gates_failed else ""
        click.echo(
            f"  {c.metric}: {fmt_number(c.current_value or 0.0)} {c.unit} now, "
            f"{fmt_number(c.baseline_value)} in the baseline{change}, {c.better} is better: {verdict}"
        )
        if c.status == "regressed" or c.gates_failed:
            regressed.append(c.metric)
    return regressed
