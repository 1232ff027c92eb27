"""The ``memwatch`` command: a thin shell of click commands over the library.

Each command lives in its own module (``memwatch.cli.<name>``) exposing ``command``;
this group loads a module only when its command runs, so ``memwatch run`` never
imports SQLAlchemy. :func:`main` returns the exit code and maps every
:class:`~memwatch.errors.MemwatchError` to its own, in one place:

    0 ok · 1 a check failed · 2 usage or configuration error · 3 other · 4 no verdict
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

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
    "dashboard": (
        "memwatch.cli.dashboard",
        "Write the history as a static site: overview, regressions, per-test pages, runs.",
    ),
    "validate": ("memwatch.cli.validate", "Run the configured validation suite at a level."),
    "lines": ("memwatch.cli.lines", "Line-by-line memory of a script's functions (exact, tracemalloc)."),
    "guard": ("memwatch.cli.guard", "Run a command under a memory guard: log, signal, preserve, kill."),
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
        _refuse_empty_paths(command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


#: options that name a file, folder or database: an empty value is a mistake, never "the default"
_PATH_OPTIONS = frozenset(
    {"output", "db", "db_url", "input_path", "json_path", "config_path", "plot", "report_dir"}
)


def _refuse_empty_paths(command: click.Command) -> None:
    """``--db ""`` (an unset shell variable, say) is a usage error, not a silent fall-back."""
    commands = list(command.commands.values()) if isinstance(command, click.Group) else [command]
    for each in commands:
        for param in each.params:
            if not isinstance(param, click.Option) or param.name not in _PATH_OPTIONS:
                continue
            if getattr(param, "_memwatch_checked", False):
                continue
            param.callback = _nonempty(param.callback)
            param._memwatch_checked = True  # type: ignore[attr-defined]


def _nonempty(inner: Callable[[click.Context, click.Parameter, Any], Any] | None) -> Callable[..., Any]:
    def check(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            flag = max(param.opts, key=len) if param.opts else param.name
            raise click.BadParameter(
                "an empty value is not a path; leave the option out for the default",
                ctx,
                param,
                param_hint=flag,
            )
        return inner(ctx, param, value) if inner is not None else value

    return check


def _exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="memwatch", prog_name="memwatch")
def cli() -> None:
    """Memory testing and memory protection for Python.

    Exit codes: 0 ok, 1 a check failed, 2 usage or configuration error, 3 other
    (the code under test failed, or a bug), 4 no verdict (inconclusive).
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
    except click.exceptions.NoArgsIsHelpError as exc:  # `memwatch` or a group alone: its help
        click.echo(exc.format_message(), err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        message = exc.format_message()
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            message = f"{message.rstrip('.')} (see '{exc.ctx.command_path} --help')"
        click.echo(f"memwatch: error: {message}", err=True)
        return EXIT_USAGE if exc.exit_code == 2 else EXIT_OTHER
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("memwatch: interrupted", err=True)
        return 130
    except OSError as exc:
        from memwatch.cli._outpath import USER_PATH_ERRNOS, path_error

        if exc.errno not in USER_PATH_ERRNOS or exc.filename is None:
            return _internal_error(exc)
        error = path_error(exc)
        click.echo(f"memwatch: error: {error}", err=True)
        return error.exit_code
    except UnicodeDecodeError as exc:  # a file memwatch reads is not text: bad input, not a bug
        click.echo(
            f"memwatch: error: an input file is not UTF-8 text ({exc.reason} at byte {exc.start})", err=True
        )
        return EXIT_USAGE
    except json.JSONDecodeError as exc:  # a stored value (a database cell) that is not JSON
        click.echo(
            f"memwatch: error: corrupt data: a stored JSON value cannot be read ({exc.msg} at "
            f"offset {exc.pos}); the run file or history database is damaged",
            err=True,
        )
        return EXIT_USAGE
    except SystemExit as exc:  # the code under test called sys.exit(): not memwatch's exit code
        code = exc.code
        click.echo(f"memwatch: error: the code under test called sys.exit({code!r})", err=True)
        return EXIT_OTHER
    except Exception as exc:  # a bug in memwatch, not a user mistake: keep the traceback
        return _internal_error(exc)
    return int(result) if isinstance(result, int) else 0


def _internal_error(exc: BaseException) -> int:
    traceback.print_exc()
    click.echo(f"memwatch: internal error: {type(exc).__name__}: {exc}", err=True)
    return EXIT_OTHER


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
