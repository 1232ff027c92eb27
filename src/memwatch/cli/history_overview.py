"""``memwatch history`` without a test id: the recent runs and every test's latest status."""

from __future__ import annotations

import click

from memwatch.cli.history import _console

__all__ = ["print_overview"]


def print_overview(url: str | None, *, env: str | None, branch: str | None, runs_shown: int = 10) -> int:
    """Print the recent runs, then every test and metric worst first; return the exit code."""
    from rich.table import Table

    from memwatch.config.schema import load_config
    from memwatch.dashboard import pages
    from memwatch.dashboard.scope import select_runs, when
    from memwatch.dashboard.site import iter_analysed
    from memwatch.store.db import open_store
    from memwatch.store.stream import all_runs

    cfg = load_config().regression
    with open_store(url, create=False) as store:
        scope = select_runs(all_runs(store), where=store.display_url, env=env, branch=branch, min_runs=1)
        rows = [
            (pages.overview_row(a, ""), a)
            for group in iter_analysed(store, scope, config=cfg, find_changes=False)
            for a in group
        ]
        where = store.display_url
    console = _console()
    runs = Table(title=f"Recent runs in {where} ({scope.describe()})", title_justify="left")
    for name, justify in (
        ("run", "right"),
        ("date (UTC)", "left"),
        ("kind", "left"),
        ("commit", "left"),
        ("environment", "left"),
        ("results", "right"),
    ):
        runs.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in reversed(scope.runs[-runs_shown:]):
        runs.add_row(str(r.id), when(r.created_at), r.kind, pages.commit(r), r.env_key, str(r.result_count))
    console.print(runs)
    rows.sort(key=lambda pair: pair[0]["order"])
    tests = Table(
        title=f"{len({a.test_id for _, a in rows})} tests, {len(rows)} series, worst first",
        title_justify="left",
    )
    for name, justify in (
        ("test", "left"),
        ("metric", "left"),
        ("runs", "right"),
        ("latest", "right"),
        ("change", "right"),
        ("status", "left"),
        ("against", "left"),
    ):
        tests.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row, _ in rows:
        status = row["status"] + (f" ({row['severity']})" if row["severity"] else "")
        tests.add_row(
            row["test"],
            row["metric"],
            str(row["runs"]),
            row["latest"],
            row["change"],
            status,
            row["reference"],
        )
    console.print(tests)
    counts = ", ".join(
        f"{n} {s}"
        for s, n in sorted(
            _count(r["status"] for r, _ in rows).items(), key=lambda kv: pages.STATUS_ORDER[kv[0]]
        )
    )
    click.echo(f"{counts}. A test's trend: memwatch history TEST_ID [--metric M]; a site: memwatch dashboard")
    return 0


def _count(items: object) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:  # type: ignore[attr-defined]
        out[item] = out.get(item, 0) + 1
    return out
