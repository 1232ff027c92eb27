"""``memwatch validate``: run the configured validation suite at a level."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from memwatch.cli._options import db_option

__all__ = ["command"]


@click.command("validate")
@click.option(
    "--level",
    type=click.Choice(["quick", "comprehensive", "nightly"]),
    default=None,
    help="Which checks run (default: the config's level, else quick).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="memwatch.yaml or pyproject.toml (default: searched upwards from here).",
)
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where reports go (default: the config's report_dir).",
)
@db_option
@click.option("--no-db", is_flag=True, help="Do not record this run in the history database.")
@click.option("--debug", is_flag=True, help="Keep tracebacks of failing checks in the reports.")
def command(
    level: str | None,
    config_path: str | None,
    report_dir: str | None,
    db: str | None,
    no_db: bool,
    debug: bool,
) -> int:
    """Run every check the level selects on every configured component.

    Writes <level>_<timestamp>.{json,html,md,xml} into the report folder, prints a
    summary, and exits 0 (passed; warnings notify), 1 (a check failed or errored)
    or 2 (configuration error).
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from memwatch.config.schema import load_config
    from memwatch.errors import ConfigError
    from memwatch.suite import run_suite, write_reports
    from memwatch.suite.history import record_report
    from memwatch.suite.output import prepare_report_dir
    from memwatch.suite.runner import check_suite, default_report_dir

    config = load_config(config_path)
    if not config.components:
        where = config.source or "no memwatch.yaml or [tool.memwatch] found"
        raise ConfigError(f"no components to validate ({where}); see docs/validation.md")
    folder = Path(report_dir) if report_dir else default_report_dir(config)
    check_suite(config, level or config.level)  # config errors before anything is created or measured
    store = None
    if not no_db:
        from memwatch.store import configured_url, open_store

        store = open_store(configured_url(db, config))
    err = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("validating", total=None)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)
            if not err.is_terminal and label != "done":
                err.print(f"[{done + 1}/{total}] {label}", highlight=False)

        prepare_report_dir(folder)
        report = run_suite(config, level=level, store=store, debug=debug, progress=progress)
    if store is not None:
        report = record_report(store, report)
        store.close()
    paths = write_reports(report, folder)
    _print_summary(report, paths)
    return report.exit_code


def _print_summary(report: object, paths: dict[str, Path]) -> None:
    from rich.console import Console
    from rich.table import Table

    from memwatch.model.suite import SuiteReport
    from memwatch.units import format_duration

    assert isinstance(report, SuiteReport)
    width = None if sys.stdout.isatty() else 140
    console = Console(file=sys.stdout, highlight=False, width=width)
    styles = {"pass": "green", "warn": "yellow", "fail": "bold red", "error": "bold red", "skipped": "dim"}
    table = Table(title=f"memwatch validate · {report.level}", title_justify="left")
    for column in ("Component", "Check", "Status", "Severity", "Time", "Summary"):
        table.add_column(column, overflow="fold")
    for o in report.outcomes:
        table.add_row(
            o.component,
            o.check,
            f"[{styles[o.status]}]{o.status}[/]",
            o.severity,
            format_duration(o.duration),
            o.summary,
        )
    console.print(table)
    console.print(
        f"[{'green' if report.passed else 'bold red'}]{report.headline}[/] "
        f"in {format_duration(report.duration)}"
    )
    width = max((len(fmt) for fmt in paths), default=0)
    for fmt, path in paths.items():
        shown = f"{path}/" if path.is_dir() else str(path)
        # never wrapped: a path is copied whole from a terminal or a CI log
        console.print(f"  {fmt.replace('_', ' '):<{width}}  {shown}", highlight=False, soft_wrap=True)
    if report.run_id is not None:
        console.print(f"  recorded as run {report.run_id} in the history database")
