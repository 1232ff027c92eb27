"""``memwatch compare``: two runs (saved files or history-database ids), or two implementations.

- ``memwatch compare before.json after.json``: two profiled runs, overall and per phase;
  or two saved benchmark reports (``memwatch bench --json``), benchmark by benchmark,
  each in its direction (rates regress when they fall, times when they rise).
- ``memwatch compare 12 15 [--db URL]``: two recorded runs of the history database,
  every test and metric they share, with the regression statistics.
- ``memwatch compare --ab pkg:impl_a pkg:impl_b [--input pkg:make_input]``: one
  operation's two implementations measured alternately on the same input.

Exit code 0 (a comparison is a report); with ``--fail-on-regression`` 1 when the
later run (or B) is worse.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from memwatch.cli._options import db_option
from memwatch.errors import ConfigError
from memwatch.model.base import Record
from memwatch.reporters import render
from memwatch.units import parse_size

if TYPE_CHECKING:
    from memwatch.config.schema import RegressionConfig
    from memwatch.model.bench import BenchReport

__all__ = ["command", "parse_tolerance"]


def parse_tolerance(text: str) -> float:
    """``"5%"`` or ``"0.05"`` -> 0.05."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ConfigError(
            f"--tolerance {text!r}: expected a percentage such as 5% or a fraction such as 0.05"
        ) from None
    if not 0 <= value < 10:
        raise ConfigError(f"--tolerance {text!r}: must be between 0% and 1000%")
    return value


def _is_run_id(text: str) -> bool:
    return text.isdigit() and not Path(text).exists()


@click.command("compare")
@click.argument("before")
@click.argument("after")
@click.option("-f", "--format", "fmt", default="text", show_default=True, help="text, md or json.")
@click.option(
    "--tolerance",
    default="5%",
    show_default=True,
    help="Changes within this share of the earlier value count as unchanged.",
)
@click.option(
    "--min-change",
    default="1 MiB",
    show_default=True,
    help="Memory changes below this count as unchanged (noise floor).",
)
@click.option("--fail-on-regression", is_flag=True, help="Exit 1 when the later run (or B) is worse.")
@db_option
@click.option(
    "--ab",
    is_flag=True,
    help="BEFORE and AFTER are two implementations (module:callable) "
    "of one operation: measure them side by side.",
)
@click.option(
    "--input",
    "input_path",
    default=None,
    metavar="MODULE:CALLABLE",
    help="With --ab: called once; its return value is the argument both get.",
)
@click.option("--samples", default=9, show_default=True, type=int, help="With --ab: samples per side.")
@click.option("--batch", default=10, show_default=True, type=int, help="With --ab: calls per sample.")
@click.option("-o", "--output", default=None, metavar="FILE", help="Write the report here instead of stdout.")
def command(
    before: str,
    after: str,
    fmt: str,
    tolerance: str,
    min_change: str,
    fail_on_regression: bool,
    db: str | None,
    ab: bool,
    input_path: str | None,
    samples: int,
    batch: int,
    output: str | None,
) -> int:
    """Compare BEFORE with AFTER: run files, history-database run ids, or (--ab) implementations."""
    from memwatch.cli.report import emit

    tol = parse_tolerance(tolerance)
    floor = parse_size(min_change)
    worse: list[str]
    result: Record
    if ab:
        result, worse = _ab(before, after, input_path, samples, batch, tol)
    elif _is_run_id(before) and _is_run_id(after):
        result, worse = _stored(int(before), int(after), db, tol, floor)
    else:
        result, worse = _files(before, after, tol, floor)
    emit(render(result, fmt), output)
    if fail_on_regression and worse:
        click.echo(f"memwatch: regressed: {', '.join(worse)}", err=True)
        return 1
    return 0


def _files(before: str, after: str, tol: float, floor: int) -> tuple[Record, list[str]]:
    from memwatch.cli.report import load_result
    from memwatch.errors import UsageError
    from memwatch.model.bench import BenchReport
    from memwatch.model.timeline import RunResult
    from memwatch.runs.compare import compare_runs

    old, new = load_result(before), load_result(after)
    if isinstance(old, BenchReport) and isinstance(new, BenchReport):
        return _benchmarks(old, new, before, after, tol, floor)
    if not (isinstance(old, RunResult) and isinstance(new, RunResult)):
        raise UsageError(
            f"cannot compare {before} ({_kind(old)}) with {after} ({_kind(new)}): compare takes two saved "
            "runs (memwatch run -o) or two saved benchmark reports (memwatch bench --json)"
        )
    result = compare_runs(
        old,
        new,
        tolerance=tol,
        min_bytes=floor,
        before_label=old.label or before,
        after_label=new.label or after,
    )
    return result, list(result.regressions)


def _kind(result: Record) -> str:
    return str(getattr(type(result), "KIND", type(result).__name__))


def _regression_config(tol: float, floor: int) -> RegressionConfig:
    """The config's ``regression`` section (its per-metric ``thresholds``) with --tolerance as the
    percent of the other metrics and --min-change as the floor of memory changes."""
    from memwatch.config.schema import SeverityPercent, load_config

    return load_config().regression.model_copy(
        update={
            "severity": SeverityPercent(
                minor=tol * 100, major=max(30.0, tol * 200), critical=max(50.0, tol * 400)
            ),
            "abs_floor": floor,
        }
    )


def _benchmarks(
    old: BenchReport, new: BenchReport, before: str, after: str, tol: float, floor: int
) -> tuple[Record, list[str]]:
    """Two saved benchmark reports, benchmark by benchmark (samples against samples)."""
    from memwatch.benchset.history import TEST_ID
    from memwatch.model.history import Baseline, ResultRow
    from memwatch.regression.check import check_regressions

    def rows(report: BenchReport) -> list[ResultRow]:
        return [ResultRow(TEST_ID, m.name, m.unit, m.samples or (m.value,)) for m in report.metrics]

    baselines = [
        Baseline(r.test_id, r.metric, r.unit, r.samples, "files", {}, None, before) for r in rows(old)
    ]
    if (old.machine.host, old.machine.cpu) != (new.machine.host, new.machine.cpu):
        click.echo(
            f"memwatch: warning: {before} ran on {old.machine.host} ({old.machine.cpu}), "
            f"{after} on {new.machine.host} ({new.machine.cpu})",
            err=True,
        )
    if old.quick != new.quick:
        click.echo(f"memwatch: warning: only one of {before} and {after} ran the --quick workloads", err=True)
    report = check_regressions(rows(new), baselines, env_key="files", config=_regression_config(tol, floor))
    return report, [c.metric for c in report.regressions]


def _stored(before: int, after: int, db: str | None, tol: float, floor: int) -> tuple[Record, list[str]]:
    from memwatch.model.history import Baseline
    from memwatch.regression.check import check_regressions
    from memwatch.store import configured_url, open_store

    with open_store(configured_url(db), read_only=True) as store:  # reads only: never changes the file
        old, new = store.run(before), store.run(after)
        old_rows, new_rows = store.results(before), store.results(after)
    baselines = [
        Baseline(
            r.test_id,
            r.metric,
            r.unit,
            r.samples,
            old.env_key,
            old.env,
            old.id,
            f"run {old.id}",
            old.created_at,
        )
        for r in old_rows
    ]
    config = _regression_config(tol, floor)
    if old.env_key != new.env_key:
        click.echo(
            f"memwatch: warning: run {before} ({old.env_key}) and run {after} "
            f"({new.env_key}) ran in different environments",
            err=True,
        )
    report = check_regressions(
        new_rows, baselines, env_key=old.env_key, env=old.env, config=config, run_id=after
    )
    return report, [f"{c.test_id} {c.metric}" for c in report.regressions]


def _input(spec: str) -> object:
    """The --input factory's value; its exception is the code under test's (exit 3), named."""
    from memwatch.config.target import resolve_target
    from memwatch.errors import OperationError

    factory = resolve_target(spec, no_args=True)
    try:
        return factory()
    except Exception as exc:
        raise OperationError(
            f"--input {spec}: the factory raised {type(exc).__name__}: {exc}", original=exc
        ) from None


def _ab(
    a_path: str, b_path: str, input_path: str | None, samples: int, batch: int, tol: float
) -> tuple[Record, list[str]]:
    from memwatch.config.target import resolve_target
    from memwatch.regression.abtest import compare_implementations

    a, b = resolve_target(a_path), resolve_target(b_path)
    args: tuple[object, ...] = (_input(input_path),) if input_path else ()
    result = compare_implementations(a, b, args, samples=samples, batch=batch, tolerance=tol)
    return result, [m.metric for m in result.metrics if m.verdict == "b worse"]
