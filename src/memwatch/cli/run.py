"""``memwatch run``: sample a command's memory (its whole process tree) until it exits.

Exit code: 0 when the command succeeded, 1 when it failed or was killed (the run
file is written either way), 2 for a usage error (nothing is run), 130 after Ctrl-C
(what was sampled is saved).
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Sequence
from pathlib import Path

import click

from memwatch.errors import ConfigError, UsageError
from memwatch.model.base import write_document
from memwatch.model.timeline import RunResult
from memwatch.runs.command import run_command
from memwatch.units import format_value, parse_duration

__all__ = ["check_output_path", "command", "parse_interval", "parse_signals", "summary_lines"]


def parse_interval(text: str) -> float:
    """``"10ms"`` -> 0.01; zero, negative or garbage -> ConfigError naming the text."""
    try:
        seconds = parse_duration(text)
    except ConfigError as exc:
        raise ConfigError(f"--interval: {exc}") from None
    if seconds < 1e-4:
        raise ConfigError(f"--interval {text!r} is below 0.1 ms, which no sampler can keep")
    return seconds


def parse_signals(text: str | None) -> list[str] | None:
    """``"rss,vms"`` -> ["rss", "vms"] (names are checked by the sampler)."""
    if text is None:
        return None
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise ConfigError("--signals: name at least one probe, e.g. --signals rss,vms")
    return names


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """Refuse, before anything runs, an output path that cannot be written."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise UsageError(f"cannot write {target}: it is a directory")
    if not folder.is_dir():
        raise UsageError(f"cannot write {target}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise UsageError(f"cannot write {target}: permission denied")
    return target


def summary_lines(run: RunResult) -> list[str]:
    unit = run.timeline.units.get(run.primary_signal, "bytes")
    name = os.path.basename(run.command[0]) if run.command else "command"
    if run.exit == "exited":
        ended = f"exited with code {run.exit_code}"
    elif run.exit == "signal":
        ended = f"was killed by signal {run.signal}"
    else:
        ended = "was interrupted"
    tl = run.timeline
    lines = [
        f"{name} {ended} after {format_value(run.duration, 'seconds')}",
        f"peak {format_value(run.peak, unit)} ({run.primary_signal}), growth "
        f"{format_value(run.growth, unit, signed=True)}, {len(tl)} samples every "
        f"{format_value(tl.interval, 'seconds')} ({tl.late_samples} late, {tl.missed_samples} missed)",
    ]
    for s in run.phase_stats:
        change = format_value(s.delta_memory, unit, signed=True)
        lines.append(
            f"  phase {s.name}: {format_value(s.duration, 'seconds')}, peak "
            f"{format_value(s.peak_memory, unit)}, change {change}"
        )
    return lines


@click.command("run", context_settings={"allow_interspersed_args": False})
@click.option(
    "-o",
    "--output",
    default=None,
    metavar="FILE",
    help="Run file to write (default memwatch-run-<time>.json).",
)
@click.option(
    "--interval", default="10ms", show_default=True, help="Sampling interval, e.g. 10ms, 1ms, 0.5s."
)
@click.option(
    "--signals",
    default=None,
    metavar="NAMES",
    help="Comma-separated: rss, vms, processes (default rss,processes).",
)
@click.option(
    "--mode",
    type=click.Choice(["thread", "process"]),
    default="thread",
    show_default=True,
    help="process: a helper process reads /proc (top process only), for intervals < 5 ms.",
)
@click.option("--no-children", is_flag=True, help="Measure the top process only, not its children.")
@click.option("--label", default="", help="A name for this run in reports and comparisons.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def command(
    output: str | None,
    interval: str,
    signals: str | None,
    mode: str,
    no_children: bool,
    label: str,
    quiet: bool,
    command: Sequence[str],
) -> int:
    """Sample COMMAND's memory until it exits and save the run.

    \b
    memwatch run -o job.json -- python job.py
    The command can mark phases: see memwatch.runs.command.phase (MEMWATCH_PHASE_FILE).
    Exit code: 0 the command succeeded, 1 it failed or was killed (the run is saved),
    2 usage error, 130 interrupted (what was sampled is saved).
    """
    seconds = parse_interval(interval)
    names = parse_signals(signals)
    if not command:
        raise UsageError("no command to run: give one after --, e.g. memwatch run -- python job.py")
    if output is None:
        output = f"memwatch-run-{_dt.datetime.now():%Y%m%d-%H%M%S}.json"
    target = check_output_path(output)
    run = run_command(
        list(command),
        interval=seconds,
        signals=names,
        mode="process" if mode == "process" else "thread",
        include_children=not no_children,
        label=label,
    )
    write_document(run, target)
    if not quiet:
        for line in summary_lines(run):
            click.echo(f"memwatch: {line}", err=True)
        click.echo(
            f"memwatch: saved {target} (memwatch plot {target} -o {target.with_suffix('.png')})", err=True
        )
    if run.exit == "interrupted":
        return 130
    return 0 if run.exit == "exited" and run.exit_code == 0 else 1
