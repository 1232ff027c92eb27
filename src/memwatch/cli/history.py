"""``memwatch history [TEST_ID]``: a test's metric over past runs and where it stepped;
without a test id, the recent runs and every test's latest value and status;
``memwatch history diff --base REF --head REF``: what changed between two runs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from memwatch.cli._options import db_option
from memwatch.cli._outpath import check_writable
from memwatch.errors import UsageError
from memwatch.model.base import dump_document
from memwatch.model.history import HistoryResult
from memwatch.units import format_value

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["command"]


class _HistoryGroup(click.Group):
    """``history diff ...`` runs the subcommand; anything else is ``history show ...``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["show", *args]
        return super().parse_args(ctx, args)


@click.group("history", cls=_HistoryGroup, context_settings={"help_option_names": ["-h", "--help"]})
def command() -> None:
    """Show the history database: `memwatch history [TEST_ID]` (a test's trend, or the
    recent runs and every test's status) and `memwatch history diff` (two runs, for a PR).

    Exit codes: 0 shown, 1 diff with --fail-on-regression found one, 2 no such history or a bad option.
    """


def _fmt(value: float, unit: str) -> str:
    return format_value(value, unit)


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))


def _commit(branch: str | None, sha: str | None) -> str:
    return "@".join(p for p in (branch or "", (sha or "")[:7]) if p) or "-"


@command.command("show")
@click.argument("test_id", required=False)
@click.option("--metric", default="peak", show_default=True, help="Metric to show (peak, growth, ...).")
@db_option
@click.option(
    "--env",
    "env",
    metavar="KEY",
    default=None,
    help="Only runs of this environment key (e.g. cpython3.11-linux-x86_64).",
)
@click.option(
    "--branch", "branch", metavar="NAME", default=None, help="Without TEST_ID: only runs of this branch."
)
@click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(2, 100_000),
    help="How many of the newest runs to analyse (without TEST_ID: the runs listed).",
)
@click.option(
    "--min-change",
    default="5%",
    show_default=True,
    help="Smallest step (percent of the level before it) reported as a change point.",
)
@click.option(
    "--plot",
    "plot",
    metavar="PNG",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also draw the trend with its change points into this image.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the history as a JSON document.")
def show(
    test_id: str | None,
    metric: str,
    db: str | None,
    env: str | None,
    branch: str | None,
    limit: int,
    min_change: str,
    plot: str | None,
    as_json: bool,
) -> int:
    """Show TEST_ID's METRIC over past runs and the runs where it stepped up or down.

    Without TEST_ID: the recent runs, then every test's metrics with the latest value, the
    change against the baseline and a status (regressed / missing / improved / new / ok),
    worst first. Change points come from PELT with a median check (see docs/history.md).

    Exit codes: 0 shown, 2 no such history or a bad database/option.
    """
    from memwatch.store.db import open_store
    from memwatch.store.engine import configured_url
    from memwatch.store.history import build_history

    threshold = _percent(min_change)
    if test_id is None:
        if plot or as_json:
            raise UsageError("--plot and --json need a TEST_ID")
        from memwatch.cli.history_overview import print_overview

        return print_overview(configured_url(db), env=env, branch=branch, runs_shown=min(limit, 10))
    if branch is not None:
        raise UsageError(
            "--branch applies to the listing without TEST_ID; use --env to narrow a test's trend"
        )
    if plot:
        check_writable(plot)
    with open_store(configured_url(db), read_only=True) as store:
        history = build_history(store, test_id, metric, env=env, limit=limit, min_change=threshold)
    if plot:
        _plot(history, Path(plot))
    if as_json:
        click.echo(json.dumps(dump_document(history), indent=1, sort_keys=True))
        return 0
    _print(history, threshold)
    if plot:
        click.echo(f"plot written to {plot}")
    return 0


def _percent(text: str) -> float:
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise UsageError(f"invalid --min-change {text!r}: expected a percentage such as '5%'") from None
    if not 0 <= value < 1000:
        raise UsageError(f"invalid --min-change {text!r}: expected 0% to 1000%")
    return value / 100.0


def _print(history: HistoryResult, threshold: float) -> None:
    from rich.table import Table

    unit = history.unit
    steps = {c.index: c for c in history.change_points}
    envs = {p.env_key for p in history.points}
    table = Table(
        title=f"{history.test_id} · {history.metric} · last {len(history.points)} runs", title_justify="left"
    )
    for name, justify in (
        ("run", "right"),
        ("date (UTC)", "left"),
        ("commit", "left"),
        ("value", "right"),
        ("n", "right"),
        ("vs previous", "right"),
        ("step", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    if len(envs) > 1:
        table.add_column("environment")
    previous: float | None = None
    for i, p in enumerate(history.points):
        change = ""
        if previous:
            change = f"{(p.value - previous) / previous * 100:+.1f}%"
        mark = ""
        if i in steps:
            mark = "▲ step up" if steps[i].direction == "up" else "▼ step down"
        row = [
            str(p.run_id),
            _when(p.created_at),
            _commit(p.git_branch, p.git_sha),
            _fmt(p.value, unit),
            str(len(p.samples)),
            change,
            mark,
        ]
        if len(envs) > 1:
            row.append(p.env_key)
        table.add_row(*row)
        previous = p.value
    console = _console()
    console.print(table)
    if len(envs) > 1:
        console.print(
            f"note: these runs come from {len(envs)} environments; use --env KEY to compare like with like"
        )
    for b in history.baselines:
        console.print(
            f"Baseline [{b.env_key}]: {_fmt(b.value, unit)} (median of {len(b.samples)}), "
            f"from {b.source or 'unknown'}, set {_when(b.set_at)}"
        )
    if not history.change_points:
        console.print(
            f"No change points: no step of {threshold * 100:g}% or more over {len(history.points)} runs."
        )
        return
    console.print("Change points:")
    for c in history.change_points:
        p = history.points[c.index]
        pct = f" ({(c.ratio - 1) * 100:+.1f}%)" if c.ratio is not None else ""
        console.print(
            f"  run {c.run_id} ({_when(p.created_at)}, {_commit(p.git_branch, p.git_sha)}): "
            f"{history.metric} stepped {c.direction} {_fmt(c.before, unit)} -> "
            f"{_fmt(c.after, unit)}{pct}"
        )


def _plot(history: HistoryResult, path: Path) -> None:
    check_writable(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scale, label = (2.0**20, "MiB") if history.unit == "bytes" else (1.0, history.unit)
    x = list(range(len(history.points)))
    values = [p.value / scale for p in history.points]
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    try:
        for xi, p in zip(x, history.points, strict=True):
            if len(p.samples) > 1:
                ax.plot([xi] * len(p.samples), [s / scale for s in p.samples], ".", color="0.7", ms=3)
        ax.plot(x, values, "-o", color="tab:blue", ms=3, lw=1.2, label=f"median {history.metric}")
        for c in history.change_points:
            ax.axvline(c.index - 0.5, color="tab:red", ls="--", lw=1)
            ax.annotate(
                f"step {c.direction} at run {c.run_id}",
                (c.index - 0.5, 0.03),
                xycoords=("data", "axes fraction"),
                textcoords="offset points",
                xytext=(4, 0),
                color="tab:red",
                fontsize=8,
                bbox={"boxstyle": "round", "fc": "white", "ec": "tab:red", "alpha": 0.9},
            )
        step = max(1, len(x) // 12)
        ax.set_xticks(x[::step], [str(p.run_id) for p in history.points][::step])
        ax.set_xlabel("run")
        ax.set_ylabel(f"{history.metric} ({label})")
        ax.set_title(f"{history.test_id} — {history.metric}", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
        fig.tight_layout()
        tmp = path.with_name(f".{path.name}.tmp.png")
        try:
            fig.savefig(tmp)
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)


def _console() -> Console:
    """Rich console: the terminal's width, or wide enough not to fold rows when piped."""
    from rich.console import Console

    # markup off: test ids such as "test_x[param]" or "[/x]" must print as they are.
    console = Console(highlight=False, markup=False)
    return console if console.is_terminal else Console(width=200, highlight=False, markup=False)


def _register() -> None:
    from memwatch.cli.history_diff import diff

    command.add_command(diff)


_register()
