"""Turn a database URL into a configured SQLAlchemy engine.

- no URL: ``$MEMWATCH_DB``, else the SQLite file ``.memwatch/history.db`` (its folder
  is created);
- a plain path or ``sqlite:///path``: SQLite in WAL mode with a busy timeout, so
  several processes can write one file; writes take the write lock at ``BEGIN``
  (``BEGIN IMMEDIATE``) so two writers never deadlock upgrading a read lock;
- ``postgresql://...``: PostgreSQL through psycopg 3 (the ``postgres`` extra).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from memwatch.errors import DataError, UnavailableError, UsageError

__all__ = [
    "BUSY_TIMEOUT_MS",
    "DEFAULT_PATH",
    "configured_url",
    "create_engine",
    "display_url",
    "refuse_missing_sqlite_file",
    "resolve_url",
]

DEFAULT_PATH = Path(".memwatch") / "history.db"
BUSY_TIMEOUT_MS = 60_000
WRITE_OPTION = "memwatch_write"


def resolve_url(url: str | os.PathLike[str] | None, *, create: bool = True) -> str:
    """The SQLAlchemy URL for ``url`` (see the module docstring for the defaults).

    ``create=False`` (readers) leaves the default folder alone when it is missing."""
    if url is None:
        url = os.environ.get("MEMWATCH_DB") or None
    if url is None:
        if create:
            DEFAULT_PATH.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{DEFAULT_PATH}"
    text = os.fspath(url).strip()
    if not text:
        raise UsageError("empty database URL")
    if "://" not in text:
        return f"sqlite:///{text}"
    scheme = text.split("://", 1)[0].lower()
    if scheme in ("postgresql", "postgres"):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    if scheme.startswith("postgresql+") and scheme != "postgresql+psycopg":
        raise UsageError(f"unsupported PostgreSQL driver {scheme!r}: use postgresql:// (psycopg 3)")
    if scheme in ("sqlite", "postgresql+psycopg"):
        return text
    raise UsageError(
        f"unsupported database URL {display_url(text)!r}: "
        "use a file path, sqlite:///path or postgresql://user@host/db"
    )


def configured_url(explicit: str | None) -> str | None:
    """The database a command should use: ``explicit`` (``--db``), else ``$MEMWATCH_DB``,
    else ``store.url`` of the memwatch.yaml / ``[tool.memwatch]`` found from here, else
    None (the default file). A malformed config file raises ConfigError."""
    if explicit:
        return explicit
    if os.environ.get("MEMWATCH_DB"):
        return os.environ["MEMWATCH_DB"]
    from memwatch.config.schema import load_config

    return load_config().store.url


def display_url(url: str) -> str:
    """``url`` with any password hidden, for messages; a SQLite URL as its file path."""
    try:
        parsed = sa.make_url(url)
        if parsed.get_backend_name() == "sqlite":
            return parsed.database or ":memory:"
        return parsed.render_as_string(hide_password=True)
    except Exception:
        return url.rsplit("@", maxsplit=1)[-1] if "@" in url else url


def refuse_missing_sqlite_file(url: str) -> None:
    """DataError when ``url`` names a SQLite file that does not exist (for readers)."""
    parsed = sa.make_url(url)
    database = parsed.database or ""
    if (
        parsed.get_backend_name() != "sqlite"
        or database in ("", ":memory:")
        or database.startswith("file:")
        or Path(database).expanduser().exists()
    ):
        return
    raise DataError(
        f"no history database at {database}: nothing has been recorded there "
        "(check --db / $MEMWATCH_DB, or record runs first)"
    )


def create_engine(url: str) -> sa.Engine:
    """A configured engine for a URL from :func:`resolve_url`."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if importlib.util.find_spec("psycopg") is None:
        raise UnavailableError("PostgreSQL needs the psycopg driver: pip install 'memwatch[postgres]'")
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = 10
    return sa.create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)


def _sqlite_engine(parsed: sa.URL) -> sa.Engine:
    database = parsed.database or ""
    if database and database != ":memory:":
        folder = Path(database).expanduser().parent
        if not folder.is_dir():
            raise DataError(f"cannot open history database {database}: folder {folder} does not exist")
        if Path(database).is_dir():
            raise DataError(f"cannot open history database {database}: it is a directory")
    engine = sa.create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event (below) emit BEGIN itself (pysqlite's own
        # transaction handling would defer it and break BEGIN IMMEDIATE).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA cache_size = -65536")  # KiB: 64 MiB of page cache at most
            if database and database != ":memory:":
                cursor.execute("PRAGMA journal_mode = WAL")
                # WAL + NORMAL: a killed process never corrupts the file or loses a
                # committed transaction; only a power cut may lose the last ones.
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
