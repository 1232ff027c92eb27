"""Tables of the history database, its schema version and the upgrade path.

Schema history (bump :data:`SCHEMA_VERSION`, add a line here and a function to
:data:`MIGRATIONS` that upgrades from the previous version, in one transaction):

    1  2026-11  meta, runs, results, baselines.

A database whose ``meta.schema_version`` is newer than this code is refused with
both versions named; an older one is upgraded step by step when opened.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "baselines",
    "meta",
    "metadata",
    "results",
    "runs",
]

SCHEMA_VERSION = 1

metadata = sa.MetaData()

meta = sa.Table(
    "memwatch_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

runs = sa.Table(
    "memwatch_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("label", sa.Text, nullable=False, default=""),
    sa.Column("git_sha", sa.String(64)),
    sa.Column("git_branch", sa.String(255)),
    sa.Column("host", sa.String(255), nullable=False, default=""),
    sa.Column("env_key", sa.String(128), nullable=False),
    sa.Column("env", sa.Text, nullable=False),  # JSON fingerprint
    sa.Column("meta", sa.Text, nullable=False),  # JSON, caller's
    sa.Column("result_count", sa.Integer, nullable=False, default=0),
    sa.Index("ix_memwatch_runs_branch", "git_branch", "id"),
    sa.Index("ix_memwatch_runs_kind", "kind", "id"),
)

results = sa.Table(
    "memwatch_results",
    metadata,
    sa.Column("test_id", sa.Text, primary_key=True),
    sa.Column("metric", sa.String(64), primary_key=True),
    sa.Column(
        "run_id",
        sa.Integer,
        sa.ForeignKey("memwatch_runs.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("unit", sa.String(32), nullable=False),
    sa.Column("value", sa.Float, nullable=False),  # median of samples, for trends
    sa.Column("samples", sa.Text, nullable=False),  # JSON list of floats
    sa.Index("ix_memwatch_results_run", "run_id"),
    # A trend is "this test, this metric, newest runs first": one range of the primary
    # key. On SQLite the table is stored in that order (WITHOUT ROWID), so the range is
    # contiguous on disk and a trend over 10,000 runs reads a few hundred pages.
    sqlite_with_rowid=False,
)

baselines = sa.Table(
    "memwatch_baselines",
    metadata,
    sa.Column("test_id", sa.Text, primary_key=True),
    sa.Column("metric", sa.String(64), primary_key=True),
    sa.Column("env_key", sa.String(128), primary_key=True),
    sa.Column("unit", sa.String(32), nullable=False),
    sa.Column("samples", sa.Text, nullable=False),
    sa.Column("env", sa.Text, nullable=False),
    sa.Column("run_id", sa.Integer),
    sa.Column("source", sa.Text, nullable=False, default=""),
    sa.Column("set_at", sa.Float, nullable=False),
)

# from_version -> function upgrading a connection (inside a transaction) to from_version + 1
MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {}
