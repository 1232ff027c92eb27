"""Options that several commands share, declared once (the same name, text and default)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ["DB_HELP", "db_option"]

F = TypeVar("F", bound=Callable[..., Any])

DB_HELP = (
    "History database: a path, sqlite:///path or postgresql://... "
    "(default: $MEMWATCH_DB, else store.url of the config file, else .memwatch/history.db)."
)


def db_option(func: F) -> F:
    """``--db URL`` (parameter ``db``); resolve it with :func:`memwatch.store.engine.configured_url`."""
    return click.option("--db", "db", metavar="URL", default=None, help=DB_HELP)(func)
