"""``memwatch lines``: line-by-line memory of a script's functions (also ``python -m memwatch.lines``).

Exit code: the script's own (0, or what it passed to ``sys.exit``; 1 when it raised),
2 for a usage error (no script, a script that does not compile, a function it lacks).
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from memwatch.cli._outpath import check_writable
from memwatch.errors import UsageError
from memwatch.lines.script import run_script
from memwatch.model.base import atomic_write_text, write_document
from memwatch.reporters.lines import SORT_KEYS, render_lines_html, render_lines_text

__all__ = ["command"]


@click.command("lines", context_settings={"allow_interspersed_args": False})
@click.option(
    "-f",
    "--function",
    "functions",
    multiple=True,
    metavar="NAME",
    help="Profile this function (name or Class.method; repeatable). Default: every function in the script.",
)
@click.option(
    "--sort",
    type=click.Choice(["line", *SORT_KEYS]),
    default="line",
    show_default=True,
    help="Source order, or the lines that ran, largest first.",
)
@click.option("--native", is_flag=True, help="Add the glibc heap column (C allocations tracemalloc misses).")
@click.option("--json", "json_path", default=None, metavar="FILE", help="Also save the profile as JSON.")
@click.option(
    "--html", "html_path", default=None, metavar="FILE", help="Also write an annotated-source HTML page."
)
@click.option("-q", "--quiet", is_flag=True, help="Do not print the table.")
@click.argument("script")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def command(
    functions: Sequence[str],
    sort: str,
    native: bool,
    json_path: str | None,
    html_path: str | None,
    quiet: bool,
    script: str,
    args: Sequence[str],
) -> int:
    """Run SCRIPT (with ARGS) and print the memory of each line of its functions.

    \b
    memwatch lines -f build -f Parser.parse job.py --rows 1000
    Columns: Increment (traced memory after the line minus before, summed over hits),
    Peak (the most the line raised traced memory), Kept (bytes allocated on the line still
    alive when the call returned), Blocks (their count), Hits. Exact: tracemalloc, on only
    while a chosen function runs.
    """
    for path in (json_path, html_path):
        if path is not None:
            check_writable(path)
    if script.startswith("-"):
        raise UsageError(f"unknown option {script!r}; the script comes after memwatch's options")
    profile = run_script(script, args, functions=functions, native=native)
    if not quiet:
        click.echo(render_lines_text(profile, sort=None if sort == "line" else sort), nl=False)
    if json_path is not None:
        write_document(profile, json_path)
    if html_path is not None:
        atomic_write_text(html_path, render_lines_html(profile))
    return profile.exit_code or 0
