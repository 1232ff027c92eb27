"""``memwatch history diff --base REF --head REF``: what changed between two runs (Markdown for a PR)."""

from __future__ import annotations

import json

import click

from memwatch.cli._options import db_option

__all__ = ["diff"]


@click.command("diff")
@click.option(
    "--base", "base", metavar="REF", required=True, help="Branch, commit (sha prefix, HEAD, ...) or run:ID."
)
@click.option(
    "--head", "head", metavar="REF", default="HEAD", show_default=True, help="The same, for the new side."
)
@db_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "text", "json"]),
    default="md",
    show_default=True,
    help="Markdown (a PR comment or $GITHUB_STEP_SUMMARY), a text table or JSON.",
)
@click.option("--config", "config", metavar="FILE", default=None, help="Config whose regression rules apply.")
@click.option("--fail-on-regression", is_flag=True, help="Exit 1 when a result regressed.")
def diff(base: str, head: str, db: str | None, fmt: str, config: str | None, fail_on_regression: bool) -> int:
    """Compare the head run with the base run, test by test, by the regression gates' rules.

    A REF is a branch (its newest run), a commit (sha prefix, or a git revision such as
    HEAD resolved in this checkout) or run:ID.

    Exit codes: 0 shown, 1 a regression with --fail-on-regression, 2 no such run or a bad option.
    """
    from memwatch.config.schema import load_config
    from memwatch.dashboard.prdiff import diff_runs, render_markdown, resolve_run, to_json
    from memwatch.store.db import open_store
    from memwatch.store.engine import configured_url
    from memwatch.store.stream import all_runs

    cfg = load_config(config).regression
    with open_store(configured_url(db), create=False) as store:
        runs = all_runs(store)
        if not runs:
            from memwatch.errors import DataError

            raise DataError(f"no runs recorded in {store.display_url}: nothing to compare")
        old = resolve_run(runs, base, option="--base", where=store.display_url)
        new = resolve_run(runs, head, option="--head", where=store.display_url)
        result = diff_runs(store, old, new, config=cfg)
    if fmt == "json":
        click.echo(json.dumps(to_json(result), indent=1, sort_keys=True))
    elif fmt == "md":
        click.echo(render_markdown(result), nl=False)
    else:
        _text(result)
    regressed = result.counts().get("regressed", 0)
    return 1 if fail_on_regression and regressed else 0


def _text(result: object) -> None:
    from rich.table import Table

    from memwatch.cli.history import _console
    from memwatch.dashboard.prdiff import RunDiff, _change, _label, _value

    assert isinstance(result, RunDiff)
    table = Table(title=f"{_label(result.head)} against {_label(result.base)}", title_justify="left")
    for name in ("test", "metric", "base", "head", "change", "status"):
        table.add_column(name, overflow="fold")
    for r in result.rows:
        status = r.status + (
            f" ({r.check.severity})" if r.check is not None and r.status == "regressed" else ""
        )
        table.add_row(
            r.test_id, r.metric, _value(r.base, r.unit), _value(r.head, r.unit), _change(r.check), status
        )
    console = _console()
    console.print(table)
    console.print(", ".join(f"{n} {s}" for s, n in sorted(result.counts().items())))
