"""The two history-store backends as one parametrized fixture: SQLite and PostgreSQL.

The PostgreSQL parameter is marked ``postgres`` and skips, with the reason, when
``MEMWATCH_TEST_PG_URL`` is unset (``source scripts/services.sh`` sets it). Each
test gets its own PostgreSQL schema (through ``search_path``), dropped afterwards,
so parallel test processes never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

PG_URL = os.environ.get("MEMWATCH_TEST_PG_URL", "")
PG_SKIP = os.environ.get("MEMWATCH_TEST_PG_SKIP_REASON") or (
    "MEMWATCH_TEST_PG_URL is not set (source scripts/services.sh to start PostgreSQL)"
)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=[pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason=PG_SKIP)],
    ),
]


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty history database on each backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "history.db")
        return
    schema = f"mw_{uuid.uuid4().hex[:12]}"
    _pg_admin(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        _pg_admin(f"DROP SCHEMA {schema} CASCADE")
