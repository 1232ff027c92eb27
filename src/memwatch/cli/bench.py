"""``memwatch bench``: the memory benchmark set with PASS/FAIL thresholds."""

from __future__ import annotations

import os

import click

from memwatch.benchset.history import TEST_ID, record_benchmarks
from memwatch.benchset.runner import BENCHMARKS, record_wanted, run_memory_benchmarks
from memwatch.cli._outpath import check_writable
from memwatch.config.schema import load_config
from memwatch.model.base import write_document

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
    help="Record the results in the history database (also when bench.record is true).",
)
def command(
    json_path: str | None, config_path: str | None, quick: bool, only: tuple[str, ...], record: bool
) -> int:
    """Run the memory benchmark set: allocation rate, pool rate, memory bandwidth,
    GC pause mean and p99, cache hit rate and cache latency, each against a threshold.

    Prints one line per benchmark with PASS or FAIL and the machine it ran on.
    Thresholds come from the config's bench.thresholds. Exit 0 when all pass, 1 when
    one fails its threshold, 2 for a bad option or config.
    """
    if json_path is not None:
        check_writable(json_path)
    config = load_config(config_path)
    recording = record or record_wanted(config)
    # the same database as `memwatch history`: $MEMWATCH_DB, else the config's store.url
    url = os.environ.get("MEMWATCH_DB") or config.store.url
    if recording:  # a bad database is refused before the run, not after it
        from memwatch.store.db import open_store

        open_store(url).close()
    report = run_memory_benchmarks(config, quick=quick, only=only or None)
    click.echo(report.summary())
    if json_path is not None:
        write_document(report, json_path)
        click.echo(f"report saved to {json_path}")
    if recording:
        run_id = record_benchmarks(report, url)
        click.echo(f"recorded as run {run_id} (see: memwatch history {TEST_ID} --metric <benchmark>)")
    if report.failures:
        names = ", ".join(m.name for m in report.failures)
        click.echo(f"memwatch: {len(report.failures)} benchmark(s) failed their threshold: {names}", err=True)
        return 1
    return 0
