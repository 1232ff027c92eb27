"""The history database: runs, their results and per-environment baselines.

Every write is one transaction, so a writer killed half-way leaves whole runs
only; readers never see a run without its results. See :mod:`.engine` for how
SQLite (WAL, busy timeout, ``BEGIN IMMEDIATE``) and PostgreSQL are opened and
:mod:`.schema` for the tables and their versions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import sqlalchemy as sa

from memwatch.errors import DataError, UsageError
from memwatch.model.history import Baseline, ResultRow, RunInfo, TrendPoint
from memwatch.store import schema as S
from memwatch.store.codec import (
    checked_samples,
    decode_object,
    decode_samples,
    dumps,
    first_line,
    gc_paused,
    merge_rows,
    query_limit,
    run_info,
    samples_json,
    stored_test_id,
)
from memwatch.store.engine import (
    WRITE_OPTION,
    create_engine,
    display_url,
    foreign_tables,
    refuse_missing_sqlite_file,
    resolve_url,
)
from memwatch.store.env import environment_fingerprint, environment_key, git_info

__all__ = ["Store", "open_store"]

_PG_INIT_LOCK = 0x6D656D77  # "memw": serialises schema creation between PostgreSQL clients
_UNSET: Any = object()


def open_store(url: str | None = None, *, create: bool = True, read_only: bool = False) -> Store:
    """Open (creating or upgrading when needed) the history database at ``url``.

    ``url`` is a file path, ``sqlite:///path`` or ``postgresql://user@host/db``;
    ``None`` means ``$MEMWATCH_DB``, else ``.memwatch/history.db``. Raises
    :class:`~memwatch.errors.DataError` for a corrupt, foreign or newer-schema
    database and an unreachable server. ``create=False`` raises DataError for a
    SQLite file that does not exist instead of creating it.

    ``read_only=True`` (commands that only read; implies ``create=False``) opens the
    database read-only: it never creates or upgrades the schema and never changes a
    byte of the file; a file that is not a memwatch database is a DataError.
    A write to a database that fails ``PRAGMA quick_check`` is refused (DataError
    saying how to recover), checked once per Store before its first write.
    """
    create = create and not read_only
    resolved = resolve_url(url, create=create)
    if not create:
        refuse_missing_sqlite_file(resolved)
    return Store(resolved, read_only=read_only)


class Store:
    """A connection to one history database. Use :func:`open_store` to get one."""

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self.url = url
        self.display_url = display_url(url)
        self.read_only = read_only
        self._checked = False  # PRAGMA quick_check passed (before the first write)
        self._engine = create_engine(url, read_only=read_only)
        self.backend = self._engine.dialect.name
        mark = "?" if self._engine.dialect.paramstyle == "qmark" else "%s"
        self._insert_results_sql = (
            f"INSERT INTO {S.results.name} (run_id, test_id, metric, unit, value, "
            f"samples) VALUES ({', '.join([mark] * 6)})"
        )
        try:
            self._ensure_schema()
        except BaseException:
            self._engine.dispose()
            raise

    # -- plumbing -------------------------------------------------------------------
    def close(self) -> None:
        """Release the connections."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.display_url!r})"

    @contextmanager
    def _tx(self, *, write: bool = False) -> Iterator[sa.Connection]:
        if write and self.read_only:
            raise UsageError(f"{self.display_url} was opened read-only: open_store(read_only=False) to write")
        try:
            conn = self._engine.connect()
        except sa.exc.DBAPIError as exc:
            raise DataError(self._describe(exc, connecting=True)) from None
        try:
            with conn:
                conn.execution_options(**{WRITE_OPTION: write})
                with conn.begin():
                    if write and not self._checked:
                        self._check_integrity(conn)
                    yield conn
        except sa.exc.OperationalError as exc:
            raise DataError(self._describe(exc, connecting=False)) from None
        except sa.exc.DatabaseError as exc:
            reason = first_line(exc)
            if "malformed" in reason:
                raise DataError(self._damaged(reason)) from None
            raise DataError(
                f"{self.display_url}: not a memwatch history database (corrupt or foreign: {reason})"
            ) from None

    def _damaged(self, reason: str) -> str:
        where = self.display_url
        return (
            f"{where}: the history database is damaged ({reason}); memwatch will not write to it. "
            f"Recover what is readable with `sqlite3 {where} .recover | sqlite3 recovered.db` "
            f"and use --db recovered.db (or move {where} away to start a new history)"
        )

    def _describe(self, exc: sa.exc.DBAPIError, *, connecting: bool) -> str:
        reason = first_line(exc)
        if self.backend == "postgresql" and connecting:
            return f"cannot connect to the history database {self.display_url}: {reason}"
        if "malformed" in reason:
            return self._damaged(reason)
        if "not a database" in reason:
            return f"{self.display_url}: not a memwatch history database (corrupt or foreign: {reason})"
        return f"history database {self.display_url}: {reason}"

    def _check_integrity(self, conn: sa.Connection) -> None:
        """Refuse to write to a SQLite file that fails ``PRAGMA quick_check``."""
        if self.backend != "sqlite" or self.read_only:
            return
        try:
            found = [str(row[0]) for row in conn.exec_driver_sql("PRAGMA quick_check(5)")]
        except sa.exc.DatabaseError as exc:
            found = [first_line(exc)]
        if found != ["ok"]:
            problems = " ".join("; ".join(found).split())  # its lines hold newlines of their own
            raise DataError(self._damaged(f"quick_check: {problems[:200]}"))
        self._checked = True

    def _ensure_schema(self) -> None:
        with self._tx() as conn:
            version = self._read_version(conn)
            foreign = foreign_tables(conn.connection.dbapi_connection) if self.backend == "sqlite" else []
        if version is None and foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise DataError(
                f"{self.display_url}: not a memwatch history database (it holds other tables: {shown}); "
                "point --db / $MEMWATCH_DB at a memwatch database or a new file"
            )
        if self.read_only:
            if version is None:
                raise DataError(
                    f"{self.display_url}: not a memwatch history database "
                    f"({'an empty file' if self._empty_file() else 'no memwatch tables'}); "
                    "record runs first, or check --db / $MEMWATCH_DB"
                )
            if version < S.SCHEMA_VERSION:
                raise DataError(
                    f"{self.display_url}: history database schema version {version} is older than "
                    f"this memwatch's ({S.SCHEMA_VERSION}); a command that writes (memwatch baseline "
                    "set, a recorded run) upgrades it"
                )
            return
        if version == S.SCHEMA_VERSION:
            return
        with self._tx(write=True) as conn:
            if self.backend == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_INIT_LOCK})
            version = self._read_version(conn)  # another process may have done it meanwhile
            if version is None:
                S.metadata.create_all(conn)
                conn.execute(sa.insert(S.meta).values(key="schema_version", value=str(S.SCHEMA_VERSION)))
                return
            while version < S.SCHEMA_VERSION:
                S.MIGRATIONS[version](conn)
                version += 1
                conn.execute(
                    sa.update(S.meta).where(S.meta.c.key == "schema_version").values(value=str(version))
                )

    def _empty_file(self) -> bool:
        try:
            return self.backend == "sqlite" and Path(self.display_url).stat().st_size == 0
        except OSError:
            return False

    def _read_version(self, conn: sa.Connection) -> int | None:
        if not sa.inspect(conn).has_table(S.meta.name):
            return None
        raw = conn.execute(sa.select(S.meta.c.value).where(S.meta.c.key == "schema_version")).scalar()
        try:
            version = int(raw) if raw is not None else -1
        except ValueError:
            version = -1
        if version < 1:
            raise DataError(f"{self.display_url}: corrupt history database (schema version {raw!r})")
        if version > S.SCHEMA_VERSION:
            raise DataError(
                f"{self.display_url}: history database schema version {version} is newer "
                f"than this memwatch supports (version {S.SCHEMA_VERSION}); upgrade memwatch"
            )
        if version < S.SCHEMA_VERSION and version not in S.MIGRATIONS:
            raise DataError(
                f"{self.display_url}: history database schema version {version} cannot be "
                f"upgraded to version {S.SCHEMA_VERSION} by this memwatch"
            )
        return version

    # -- runs and results -----------------------------------------------------------
    def record_run(
        self,
        kind: str,
        rows: Iterable[ResultRow],
        *,
        label: str = "",
        meta: Mapping[str, Any] | None = None,
        env: Mapping[str, Any] | None = None,
        git_sha: str | None = _UNSET,
        git_branch: str | None = _UNSET,
        created_at: float | None = None,
    ) -> int:
        """Record one run and all its results in one transaction; return the run id.

        ``env`` defaults to :func:`environment_fingerprint`; ``git_sha``/``git_branch``
        to the checkout in the current folder (pass None to record none).
        """
        if not kind or not isinstance(kind, str) or len(kind) > 32:
            raise UsageError(
                f"record_run: kind must be a short non-empty string such as 'pytest', got {kind!r}"
            )
        merged = merge_rows(rows)
        fingerprint = dict(env) if env is not None else environment_fingerprint()
        if git_sha is _UNSET or git_branch is _UNSET:
            auto_sha, auto_branch = git_info()
            git_sha = auto_sha if git_sha is _UNSET else git_sha
            git_branch = auto_branch if git_branch is _UNSET else git_branch
        run_values = {
            "created_at": time.time() if created_at is None else float(created_at),
            "kind": kind,
            "label": label,
            "git_sha": git_sha and git_sha[:64],
            "git_branch": git_branch and git_branch[:255],
            "host": str(fingerprint.get("host", ""))[:255],
            "env_key": environment_key(fingerprint)[:128],
            "env": dumps(fingerprint),
            "meta": dumps(dict(meta or {})),
            "result_count": len(merged),
        }
        with self._tx(write=True) as conn:
            key = conn.execute(sa.insert(S.runs).values(run_values)).inserted_primary_key
            assert key is not None
            run_id = int(key[0])
            if merged:
                # Straight to the driver's executemany: SQLAlchemy's per-row parameter
                # processing would cost more than the insert itself for 100,000 rows.
                conn.exec_driver_sql(
                    self._insert_results_sql,
                    [
                        (run_id, r.test_id, r.metric, r.unit, r.value, samples_json(r.samples))
                        for r in sorted(merged, key=lambda r: (r.test_id, r.metric))
                    ],
                )
        return run_id

    def run(self, run_id: int) -> RunInfo:
        """One run; DataError when there is no such run."""
        row = None
        if 0 < int(run_id) < 2**63:  # ids are 64-bit: a larger one is no run (not an overflow)
            with self._tx() as conn:
                row = conn.execute(sa.select(S.runs).where(S.runs.c.id == int(run_id))).first()
        if row is None:
            raise DataError(f"no run {run_id} in {self.display_url}")
        return run_info(row, self.display_url, S.runs.name)

    def runs(
        self,
        *,
        kind: str | None = None,
        branch: str | None = None,
        env: Mapping[str, Any] | str | None = None,
        limit: int | None = 100,
    ) -> list[RunInfo]:
        """Recorded runs, newest first, optionally of one kind, branch or environment key."""
        query = sa.select(S.runs).order_by(S.runs.c.id.desc())
        if kind is not None:
            query = query.where(S.runs.c.kind == kind)
        if branch is not None:
            query = query.where(S.runs.c.git_branch == branch)
        if env is not None:
            query = query.where(S.runs.c.env_key == environment_key(env))
        if limit is not None:
            query = query.limit(query_limit(limit))
        with self._tx() as conn:
            return [run_info(row, self.display_url, S.runs.name) for row in conn.execute(query)]

    def latest_run(self, *, branch: str | None = None, kind: str | None = None) -> RunInfo | None:
        """The newest run (of a branch / kind), or None."""
        found = self.runs(branch=branch, kind=kind, limit=1)
        return found[0] if found else None

    def results(self, run_id: int) -> list[ResultRow]:
        """The results of one run, ordered by test id and metric."""
        self.run(run_id)
        query = (
            sa.select(S.results.c.test_id, S.results.c.metric, S.results.c.unit, S.results.c.samples)
            .where(S.results.c.run_id == int(run_id))
            .order_by(S.results.c.test_id, S.results.c.metric)
        )
        with self._tx() as conn:
            return [
                ResultRow(
                    r.test_id,
                    r.metric,
                    r.unit,
                    decode_samples(
                        r.samples,
                        self.display_url,
                        table=S.results.name,
                        run_id=int(run_id),
                        test_id=r.test_id,
                        metric=r.metric,
                    ),
                )
                for r in conn.execute(query)
            ]

    def trend(
        self, test_id: str, metric: str, env: Mapping[str, Any] | str | None = None, limit: int | None = 1000
    ) -> list[TrendPoint]:
        """The last ``limit`` values of one test's metric, oldest first (all environments
        unless ``env``, a fingerprint or key, is given)."""
        r, runs = S.results, S.runs
        query = (
            sa.select(
                r.c.run_id,
                runs.c.created_at,
                r.c.value,
                r.c.samples,
                r.c.unit,
                runs.c.git_sha,
                runs.c.git_branch,
                runs.c.label,
                runs.c.env_key,
            )
            .join(runs, runs.c.id == r.c.run_id)
            .where(r.c.test_id == stored_test_id(test_id), r.c.metric == metric)
            .order_by(r.c.run_id.desc())
        )
        if env is not None:
            query = query.where(runs.c.env_key == environment_key(env))
        if limit is not None:
            query = query.limit(query_limit(limit))
        with self._tx() as conn:
            rows = list(conn.execute(query).all())
        rows.reverse()
        # One JSON parse for all sample lists: a trend may hold 10,000 of them.
        # Building 10,000 points allocates ~40,000 objects: without pausing the cyclic GC,
        # its generation-0/1 passes cost about a third of the time (benchmarks/bench_store.py).
        with gc_paused():
            try:
                samples = json.loads("[" + ",".join([row[3] for row in rows]) + "]")
                ok = (
                    len(samples) == len(rows)
                    and all(type(s) is list and s for s in samples)
                    and all(type(v) in (float, int) for s in samples for v in s)
                )
            except (TypeError, ValueError):
                ok = False
            if not ok:  # find the damaged cell and name it
                samples = [
                    decode_samples(
                        row[3],
                        self.display_url,
                        table=S.results.name,
                        run_id=row[0],
                        test_id=stored_test_id(test_id),
                        metric=metric,
                    )
                    for row in rows
                ]
            return [
                TrendPoint(run_id, created, value, tuple(s), unit, sha, branch, label, key)
                for (run_id, created, value, _, unit, sha, branch, label, key), s in zip(
                    rows, samples, strict=True
                )
            ]

    def metrics(self, test_id: str) -> list[str]:
        """The metrics recorded for a test (to suggest one when a trend is empty)."""
        query = sa.select(S.results.c.metric).where(S.results.c.test_id == stored_test_id(test_id)).distinct()
        with self._tx() as conn:
            return sorted(conn.execute(query).scalars())

    # -- baselines ------------------------------------------------------------------
    def set_baseline(
        self,
        test_id: str,
        metric: str,
        unit: str,
        samples: Sequence[float],
        *,
        env: Mapping[str, Any] | None = None,
        run_id: int | None = None,
        source: str = "",
    ) -> Baseline:
        """Make ``samples`` the baseline of a test's metric in an environment (default: this one)."""
        baseline = Baseline(
            test_id,
            metric,
            unit,
            tuple(float(v) for v in samples),
            environment_key(env if env is not None else environment_fingerprint()),
            dict(env) if env is not None else environment_fingerprint(),
            run_id,
            source,
            time.time(),
        )
        self.put_baselines([baseline])
        return baseline

    def put_baselines(self, items: Iterable[Baseline]) -> int:
        """Store several baselines (replacing those of the same test, metric, environment) at once."""
        values = [
            {
                "test_id": stored_test_id(b.test_id),
                "metric": b.metric,
                "env_key": b.env_key,
                "unit": b.unit,
                "samples": samples_json([float(v) for v in checked_samples(b.test_id, b.metric, b.samples)]),
                "env": dumps(b.env),
                "run_id": b.run_id,
                "source": b.source,
                "set_at": b.set_at or time.time(),
            }
            for b in items
        ]
        if not values:
            return 0
        t = S.baselines
        with self._tx(write=True) as conn:
            for v in values:
                conn.execute(
                    sa.delete(t).where(
                        t.c.test_id == v["test_id"], t.c.metric == v["metric"], t.c.env_key == v["env_key"]
                    )
                )
            conn.execute(sa.insert(t), values)
        return len(values)

    def set_baselines_from_run(
        self, run_id: int, *, tests: Sequence[str] | None = None, source: str | None = None
    ) -> list[Baseline]:
        """Make every result of a run (or of ``tests``) the baseline in the run's environment."""
        info = self.run(run_id)
        wanted = set(tests) if tests else None
        now = time.time()
        items = [
            Baseline(
                r.test_id,
                r.metric,
                r.unit,
                r.samples,
                info.env_key,
                info.env,
                info.id,
                source or f"run {info.id}",
                now,
            )
            for r in self.results(run_id)
            if wanted is None or r.test_id in wanted
        ]
        self.put_baselines(items)
        return items

    def baseline(
        self, test_id: str, metric: str, env: Mapping[str, Any] | str | None = None
    ) -> Baseline | None:
        """The baseline of a test's metric in ``env`` (default: this environment), or None."""
        key = environment_key(env if env is not None else environment_fingerprint(()))
        found = self.baselines(test_id, metric, env=key)
        return found[0] if found else None

    def baselines(
        self,
        test_id: str | None = None,
        metric: str | None = None,
        env: Mapping[str, Any] | str | None = None,
    ) -> list[Baseline]:
        """Baselines, all environments unless ``env`` is given, ordered by test, metric, env."""
        t = S.baselines
        query = sa.select(t).order_by(t.c.test_id, t.c.metric, t.c.env_key)
        if test_id is not None:
            query = query.where(t.c.test_id == stored_test_id(test_id))
        if metric is not None:
            query = query.where(t.c.metric == metric)
        if env is not None:
            query = query.where(t.c.env_key == environment_key(env))
        with self._tx() as conn:
            return [
                Baseline(
                    b.test_id,
                    b.metric,
                    b.unit,
                    decode_samples(
                        b.samples,
                        self.display_url,
                        table=t.name,
                        test_id=b.test_id,
                        metric=b.metric,
                        env_key=b.env_key,
                    ),
                    b.env_key,
                    decode_object(
                        b.env,
                        self.display_url,
                        table=t.name,
                        column="env",
                        test_id=b.test_id,
                        metric=b.metric,
                        env_key=b.env_key,
                    ),
                    b.run_id,
                    b.source,
                    b.set_at,
                )
                for b in conn.execute(query)
            ]
