"""``memwatch dashboard``: the history database as a static site (no network at view time)."""

from __future__ import annotations

from pathlib import Path

import click

from memwatch.cli._options import db_option

__all__ = ["command"]


@click.command("dashboard")
@db_option
@click.option(
    "-o",
    "--output",
    "output",
    metavar="DIR",
    default="memwatch-site",
    show_default=True,
    help="Folder to write the site into (replaced when it holds an earlier dashboard).",
)
@click.option("--env", "env", metavar="KEY", default=None, help="Only runs of this environment key.")
@click.option("--branch", "branch", metavar="NAME", default=None, help="Only runs of this git branch.")
@click.option(
    "--since", "since", metavar="DATE", default=None, help="Only runs from this date (ISO, UTC) on."
)
@click.option(
    "--config",
    "config",
    metavar="FILE",
    default=None,
    help="memwatch.yaml or pyproject.toml whose regression rules apply (default: the one found from here).",
)
def command(
    db: str | None, output: str, env: str | None, branch: str | None, since: str | None, config: str | None
) -> int:
    """Write every test's memory over runs as a static site: an overview with sparklines and
    statuses, the change points that pass the regression gates, a page per test and the runs.

    Open DIR/index.html from the file system or publish DIR on any static host.

    Exit codes: 0 written, 2 no usable history or a bad option.
    """
    from memwatch.config.schema import load_config
    from memwatch.dashboard.scope import parse_since
    from memwatch.dashboard.site import build_site, check_output
    from memwatch.store.db import open_store
    from memwatch.store.engine import configured_url

    out = Path(output)
    check_output(out)
    when = parse_since(since)
    cfg = load_config(config).regression
    with open_store(configured_url(db), create=False) as store:
        summary = build_site(store, out, env=env, branch=branch, since=when, config=cfg)
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(summary.statuses.items()))
    click.echo(
        f"dashboard written to {out}/index.html: {summary.tests} tests, {summary.series} series ({statuses}), "
        f"{summary.regressions} change points up, {summary.improvements} down, {summary.runs} runs, "
        f"{summary.pages} pages in {summary.seconds:.1f} s"
    )
    return 0
