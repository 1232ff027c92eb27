"""``memwatch report``: a saved result as text, Markdown, JSON (or HTML where installed)."""

from __future__ import annotations

import importlib
import importlib.util
import os
from typing import Any

import click

from memwatch.model.base import Record, atomic_write_text, read_document
from memwatch.reporters import render

__all__ = ["command", "load_result"]

# every result kind that can be saved, so that any of them can be read back
_MODEL_MODULES = (
    "timeline",
    "leaks",
    "gc",
    "guard",
    "history",
    "pytest",
    "stress",
    "suite",
    "bench",
    "regression",
    "performance",
)


def load_result(path: str | os.PathLike[str], expected: Any = None) -> Record:
    """Read a saved result of any kind (DataError: missing, corrupt, other version)."""
    for name in _MODEL_MODULES:
        module = f"memwatch.model.{name}"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    result: Record = read_document(path, expected=expected)
    return result


def emit(text: str, output: str | None) -> None:
    """Print ``text``, or write it atomically to ``output``."""
    if output is None:
        click.echo(text, nl=False)
    else:
        from memwatch.cli.run import check_output_path

        atomic_write_text(check_output_path(output), text)
        click.echo(f"memwatch: wrote {output}", err=True)


@click.command("report")
@click.argument("file", type=click.Path(dir_okay=True))
@click.option(
    "-f",
    "--format",
    "fmt",
    default="text",
    show_default=True,
    help="text, md, json (html, junit where installed).",
)
@click.option("-o", "--output", default=None, metavar="FILE", help="Write the report here instead of stdout.")
def command(file: str, fmt: str, output: str | None) -> int:
    """Summarise a saved run, comparison or benchmark (FILE) in the chosen format."""
    result = load_result(file)
    emit(render(result, fmt), output)
    return 0
