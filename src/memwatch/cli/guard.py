"""``memwatch guard -- COMMAND``: run a command under a memory guard, from outside.

For services that cannot import memwatch. Exit code: the command's own (128+N when
signal N ended it), 75 when the guard killed it at emergency, 2 for a usage error.
See :mod:`memwatch.guard.external` for what is measured and what each level does.
"""

from __future__ import annotations

import logging
import sys

import click

from memwatch.errors import ConfigError
from memwatch.guard.external import GuardActions, guard_command, parse_signal
from memwatch.units import format_size, parse_duration

__all__ = ["command", "parse_level"]


def parse_level(text: str, name: str) -> float | str:
    """``"0.85"`` or ``"85%"`` -> 0.85 (a share of the budget); ``"3GiB"`` -> the size text."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        return raw  # a size: checked by the guard's threshold parser
    if not 0.0 < value <= 1.0:
        raise ConfigError(f"--{name} {text!r}: a share must be in (0, 1] (or 1%-100%), or give a size")
    return value


def _quiet_core_log() -> None:
    """The guard's own level lines say it all: keep the core's duplicates, show its errors."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.ERROR)
    logging.getLogger("memwatch.guard").addHandler(handler)


@click.command(
    "guard",
    context_settings={"allow_interspersed_args": False},
    epilog="Example: memwatch guard --budget 2GiB --signal USR1 --preserve-hook './dump.sh' -- python serve.py",
)
@click.option("--budget", help="Memory budget (e.g. 2GiB). Default: the cgroup limit, else host memory.")
@click.option("--warning", default="0.70", show_default=True, help="Warning threshold: share or size.")
@click.option("--critical", default="0.85", show_default=True, help="Critical threshold: share or size.")
@click.option("--emergency", default="0.95", show_default=True, help="Emergency threshold: share or size.")
@click.option("--signal", "sig", help="Signal sent to the process group on entering critical (e.g. USR1).")
@click.option("--preserve-hook", help="Shell command run on entering emergency, before the kill.")
@click.option("--hook-timeout", default="30s", show_default=True, help="Longest the preserve hook may run.")
@click.option("--grace", default="5s", show_default=True, help="Time between SIGTERM and SIGKILL.")
@click.option("--no-kill", is_flag=True, help="At emergency, log and run the hook but do not kill.")
@click.option("--interval", default="0.5s", show_default=True, help="Time between checks.")
@click.option(
    "--usage",
    type=click.Choice(["auto", "tree", "cgroup"]),
    default="auto",
    show_default=True,
    help="What counts: the container's working set (cgroup) or the command's process-tree RSS.",
)
@click.argument("argv", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- COMMAND [ARGS]...")
def command(
    budget: str | None,
    warning: str,
    critical: str,
    emergency: str,
    sig: str | None,
    preserve_hook: str | None,
    hook_timeout: str,
    grace: str,
    no_kill: bool,
    interval: str,
    usage: str,
    argv: tuple[str, ...],
) -> int:
    """Run COMMAND under a memory guard: log at warning, signal at critical, preserve and kill at emergency."""
    _quiet_core_log()
    actions = GuardActions(
        signal=parse_signal(sig) if sig is not None else None,
        preserve_hook=preserve_hook,
        hook_timeout=parse_duration(hook_timeout),
        kill=not no_kill,
        grace=parse_duration(grace),
    )
    run = guard_command(
        argv,
        budget=budget,
        warning=parse_level(warning, "warning"),
        critical=parse_level(critical, "critical"),
        emergency=parse_level(emergency, "emergency"),
        interval=parse_duration(interval),
        usage=usage,
        actions=actions,
    )
    click.echo(
        f"memwatch guard: peak {format_size(run.peak)} of {format_size(run.budget)} "
        f"({run.usage_source} against {run.budget_source}); exit {run.exit_code}",
        err=True,
    )
    return run.exit_code
