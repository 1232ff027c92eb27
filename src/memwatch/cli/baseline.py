"""``memwatch baseline set|show``: the samples later runs are compared with."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import click

from memwatch.cli._options import db_option
from memwatch.errors import DataError, UsageError
from memwatch.model.history import Baseline
from memwatch.units import format_value

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["command"]


@click.group("baseline")
def command() -> None:
    """Set or show regression baselines (one per test, metric and environment).

    Exit codes: 0 done, 2 a bad option, an unknown run or branch, or a bad database.
    """


@command.command("set")
@click.option(
    "--from-run",
    "run_ref",
    default=None,
    metavar="ID",
    help="Use the results of this run: an id (see `memwatch history`), `latest` (the newest run, "
    "of --kind when given) or `latest~N` (N runs before it).",
)
@click.option("--branch", default=None, metavar="NAME", help="Use the newest run recorded on this branch.")
@click.option(
    "--kind",
    default=None,
    metavar="KIND",
    help="With --branch or --from-run latest[~N]: only runs of this kind (pytest, validate, ...).",
)
@click.option(
    "--test",
    "tests",
    multiple=True,
    metavar="TEST_ID",
    help="Only these tests (repeatable); default: every result of the run.",
)
@db_option
def set_(
    run_ref: str | None, branch: str | None, kind: str | None, tests: tuple[str, ...], db: str | None
) -> int:
    """Make a run's results the baselines of its environment."""
    if (run_ref is None) == (branch is None):
        raise UsageError("baseline set needs exactly one of --from-run ID or --branch NAME")
    run_id, back = _run_ref(run_ref) if run_ref is not None else (None, None)
    from memwatch.store.db import open_store
    from memwatch.store.engine import configured_url

    with open_store(configured_url(db), create=False) as store:  # its runs must be there already
        if branch is not None:
            latest = store.latest_run(branch=branch, kind=kind)
            if latest is None:
                of_kind = f" of kind {kind!r}" if kind else ""
                raise DataError(f"no run{of_kind} recorded on branch {branch!r} in {store.display_url}")
            run_id = latest.id
            source = f"branch {branch} (run {run_id})"
        elif back is not None:
            found = store.runs(kind=kind, limit=back + 1)
            if len(found) <= back:
                of_kind = f" of kind {kind!r}" if kind else ""
                raise DataError(
                    f"--from-run {run_ref}: {store.display_url} holds {_plural(len(found), 'run')}{of_kind}"
                )
            run_id = found[back].id
            source = f"{run_ref} (run {run_id})"
        else:
            source = None
        assert run_id is not None
        info = store.run(run_id)
        items = store.set_baselines_from_run(run_id, tests=tests or None, source=source)
    if not items:
        wanted = f" for {', '.join(tests)}" if tests else ""
        raise DataError(f"run {run_id} has no results{wanted}: no baseline set")
    tests_n = len({b.test_id for b in items})
    commit = "".join(
        [f", {info.git_branch}" if info.git_branch else "", f"@{info.git_sha[:7]}" if info.git_sha else ""]
    )
    click.echo(
        f"set {_plural(len(items), 'baseline')} ({_plural(tests_n, 'test')}) from run {run_id} "
        f"[{info.env_key}{commit}]"
    )
    return 0


def _run_ref(text: str) -> tuple[int | None, int | None]:
    """``"12"`` -> (12, None); ``"latest"`` -> (None, 0); ``"latest~3"`` -> (None, 3)."""
    value = text.strip()
    if value.isdigit() and int(value) > 0:
        return int(value), None
    if value == "latest":
        return None, 0
    head, _, back = value.partition("~")
    if head == "latest" and back.isdigit():
        return None, int(back)
    raise UsageError(f"--from-run {text!r}: expected a run id (1, 2, ...), latest or latest~N")


@command.command("show")
@click.argument("test_id", required=False)
@click.option("--metric", default=None, help="Only this metric.")
@click.option("--env", default=None, metavar="KEY", help="Only this environment key.")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the baselines as JSON.")
def show(test_id: str | None, metric: str | None, env: str | None, db: str | None, as_json: bool) -> int:
    """Show the baselines (of TEST_ID, when given)."""
    from memwatch.store.db import open_store
    from memwatch.store.engine import configured_url

    with open_store(configured_url(db), read_only=True) as store:
        items = store.baselines(test_id, metric, env=env)
        where = store.display_url
    if as_json:
        click.echo(json.dumps([b.to_dict() for b in items], indent=1, sort_keys=True))
        return 0
    if not items:
        what = f" for {test_id}" if test_id else ""
        click.echo(f"no baselines{what} in {where}; set them with `memwatch baseline set --from-run ID`")
        return 0
    _table(items)
    return 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _table(items: list[Baseline]) -> None:
    from rich.table import Table

    table = Table(title=_plural(len(items), "baseline"), title_justify="left")
    for name, justify in (
        ("test", "left"),
        ("metric", "left"),
        ("environment", "left"),
        ("median", "right"),
        ("n", "right"),
        ("from", "left"),
        ("set (UTC)", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for b in items:
        value = format_value(b.value, b.unit)
        table.add_row(
            b.test_id,
            b.metric,
            b.env_key,
            value,
            str(len(b.samples)),
            b.source,
            time.strftime("%Y-%m-%d %H:%M", time.gmtime(b.set_at)),
        )
    _console().print(table)


def _console() -> Console:
    """Rich console: the terminal's width, or wide enough not to fold rows when piped."""
    from rich.console import Console

    # markup off: test ids such as "test_x[param]" or "[/x]" must print as they are.
    console = Console(highlight=False, markup=False)
    return console if console.is_terminal else Console(width=200, highlight=False, markup=False)
