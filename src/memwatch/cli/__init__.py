"""The ``memwatch`` command: a thin shell of click commands over the library.

Each command lives in its own module (``memwatch.cli.<name>``) exposing ``command``;
this group loads a module only when its command runs, so ``memwatch run`` never
imports SQLAlchemy. :func:`main` returns the exit code and maps every
:class:`~memwatch.errors.MemwatchError` to its own, in one place:

    0 ok · 1 a check failed · 2 usage or configuration error · 3 other
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from collections.abc import Sequence

import click

from memwatch.errors import EXIT_OTHER, EXIT_USAGE, MemwatchError

__all__ = ["COMMANDS", "main"]

# command name -> (module, one-line help shown in `memwatch --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("memwatch.cli.run", "Sample a command's memory until it exits; save the run."),
    "plot": ("memwatch.cli.plot", "Plot a saved run: memory over time, change rate, phases, peak."),
    "report": ("memwatch.cli.report", "Summarise a saved run or result as text, Markdown, JSON or HTML."),
    "compare": ("memwatch.cli.compare", "Compare two runs (files or database ids), or two implementations."),
    "benchmark": ("memwatch.cli.benchmark", "Run a command N times: time, peak, rate; mean/median/stdev."),
    "leaks": ("memwatch.cli.leaks", "Decide with statistics whether module:callable leaks memory."),
    "gc": ("memwatch.cli.gc", "Measure garbage-collection pauses and cost of module:callable."),
    "stress": ("memwatch.cli.stress", "Stress module:callable under memory pressure in a capped child."),
    "bench": ("memwatch.cli.bench", "Run the memory benchmark set with PASS/FAIL thresholds."),
    "history": ("memwatch.cli.history", "Show a test's metric over past runs, with change points."),
    "baseline": ("memwatch.cli.baseline", "Set or show regression baselines."),
    "validate": ("memwatch.cli.validate", "Run the configured validation suite at a level."),
    "probes": ("memwatch.cli.probes", "Show what each memory probe reads on this machine."),
    "config": ("memwatch.cli.config", "Convert document 000's validation config into memwatch's schema."),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _) in COMMANDS.items() if _exists(module)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None or not _exists(entry[0]):
            return None
        module = importlib.import_module(entry[0])
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="memwatch", prog_name="memwatch")
def cli() -> None:
    """Memory testing and memory protection for Python.

    Exit codes: 0 ok, 1 a check failed, 2 usage or configuration error, 3 other.
    """


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = cli.main(args=args, prog_name="memwatch", standalone_mode=False)
    except MemwatchError as exc:
        click.echo(f"memwatch: error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("memwatch: interrupted", err=True)
        return 130
    except click.ClickException as exc:
        click.echo(f"memwatch: error: {exc.format_message()}", err=True)
        return EXIT_USAGE if exc.exit_code == 2 else EXIT_OTHER
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("memwatch: interrupted", err=True)
        return 130
    except Exception as exc:  # a bug in memwatch, not a user mistake: keep the traceback
        traceback.print_exc()
        click.echo(f"memwatch: internal error: {type(exc).__name__}: {exc}", err=True)
        return EXIT_OTHER
    return int(result) if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
