"""Turn a database URL into a configured SQLAlchemy engine.

- no URL: ``$MEMWATCH_DB``, else the SQLite file ``.memwatch/history.db`` (its folder
  is created);
- a plain path or ``sqlite:///path``: SQLite in WAL mode with a busy timeout, so
  several processes can write one file; writes take the write lock at ``BEGIN``
  (``BEGIN IMMEDIATE``) so two writers never deadlock upgrading a read lock;
- ``postgresql://...``: PostgreSQL through psycopg 3 (the ``postgres`` extra).

``read_only=True`` (commands that only read) opens a SQLite file with the URI
``mode=ro`` and ``PRAGMA query_only``: no schema creation, no switch to WAL, no
byte of a file that is not memwatch's (someone else's database, a 0-byte file)
changes. A new database file is created with mode 0o666 less the umask, as any
other tool's (SQLite itself would make it 0o644).
"""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event

from memwatch.errors import DataError, UnavailableError, UsageError

if TYPE_CHECKING:
    from memwatch.config.schema import Config

T = TypeVar("T")

__all__ = [
    "BUSY_TIMEOUT_MS",
    "DEFAULT_PATH",
    "configured_url",
    "create_engine",
    "display_url",
    "foreign_tables",
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


def configured_url(explicit: str | None, config: Config | None = None) -> str | None:
    """The database a command should use, the same for every command: ``explicit``
    (``--db``), else ``$MEMWATCH_DB``, else ``store.url`` of ``config`` (a command's
    ``--config``; by default the memwatch.yaml / ``[tool.memwatch]`` found from here),
    else None (the default file). A malformed config file raises ConfigError; an empty
    ``--db ""`` is a mistake, not a request for the default."""
    if explicit is not None and not explicit.strip():
        raise UsageError("--db is empty: give a file path, sqlite:///path or postgresql://user@host/db")
    if explicit:
        return explicit
    if os.environ.get("MEMWATCH_DB"):
        return os.environ["MEMWATCH_DB"]
    if config is None:
        from memwatch.config.schema import load_config

        config = load_config()
    return config.store.url


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


def create_engine(url: str, *, read_only: bool = False) -> sa.Engine:
    """A configured engine for a URL from :func:`resolve_url` (see the module docstring)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, read_only=read_only)
    if importlib.util.find_spec("psycopg") is None:
        raise UnavailableError("PostgreSQL needs the psycopg driver: pip install 'memwatch[postgres]'")
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = 10
    if read_only:
        # added to the URL's own server options (a search_path, say), which a keyword would replace
        given = parsed.query.get("options", "")
        given = " ".join(given) if isinstance(given, tuple) else given
        connect_args["options"] = f"{given} -c default_transaction_read_only=on".strip()
        parsed = parsed.difference_update_query(["options"])
    return sa.create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)


def _is_file(database: str) -> bool:
    return bool(database) and database != ":memory:" and not database.startswith("file:")


def _sqlite_engine(parsed: sa.URL, *, read_only: bool = False) -> sa.Engine:
    database = parsed.database or ""
    if database and database != ":memory:":
        folder = Path(database).expanduser().parent
        if not folder.is_dir():
            raise DataError(f"cannot open history database {database}: folder {folder} does not exist")
        if Path(database).is_dir():
            raise DataError(f"cannot open history database {database}: it is a directory")
    timeout = BUSY_TIMEOUT_MS / 1000
    if read_only and _is_file(database):
        # mode=ro: SQLite opens the file O_RDONLY, so nothing it does can change it.
        uri = "file:" + urllib.parse.quote(os.path.abspath(Path(database).expanduser())) + "?mode=ro"

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)

        engine = sa.create_engine("sqlite://", creator=connect, poolclass=sa.pool.QueuePool)
    else:
        if _is_file(database):
            _create_with_umask(Path(database).expanduser())
        engine = sa.create_engine(parsed, connect_args={"timeout": timeout})

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
            if read_only:
                cursor.execute("PRAGMA query_only = ON")
            elif database and database != ":memory:" and not _retry_locked(lambda: foreign_tables(cursor)):
                # (someone else's database is left in its journal mode: the Store refuses it)
                _retry_locked(lambda: cursor.execute("PRAGMA journal_mode = WAL"))
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


def _retry_locked(step: Callable[[], T]) -> T:
    """Run ``step``, again while SQLite says "database is locked", for up to the busy timeout.

    Switching a new file to WAL while other processes create it too can fail at once with
    SQLITE_BUSY: SQLite does not always call the busy handler for a journal-mode change.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)


def foreign_tables(cursor: Any) -> list[str]:
    """The tables of a SQLite database that are neither memwatch's nor SQLite's own."""
    rows = cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'memwatch!_%' ESCAPE '!' "
        "AND name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY name"
    ).fetchall()
    return [str(row[0]) for row in rows]


def _create_with_umask(path: Path) -> None:
    """Create a missing database file as an empty file with mode 0o666 less the umask
    (SQLite reads an empty file as an empty database)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError:
        return  # it exists (or cannot be made: SQLite will say why)
    os.close(fd)
