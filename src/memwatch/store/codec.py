"""How rows become database values: validation, merging, encodings, long test ids.

Kept apart from :mod:`.db` so the rules for what may be stored read in one place.
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from memwatch.errors import DataError, UsageError
from memwatch.model.history import ResultRow, RunInfo

__all__ = [
    "MAX_TEST_ID",
    "checked_samples",
    "decode_samples",
    "dumps",
    "first_line",
    "gc_paused",
    "merge_rows",
    "query_limit",
    "run_info",
    "samples_json",
    "stored_test_id",
]

MAX_TEST_ID = 600  # characters: at most 2,400 bytes of UTF-8, under PostgreSQL's index limit


def query_limit(limit: int) -> int:
    """A query's ``limit``; negative is refused (SQLite would read it as "no limit")."""
    if isinstance(limit, bool) or int(limit) < 0:
        raise UsageError(f"limit must be a number >= 0 or None, got {limit!r}")
    return int(limit)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while many objects are built (restored as it was)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def merge_rows(rows: Iterable[ResultRow]) -> list[ResultRow]:
    merged: dict[tuple[str, str], ResultRow] = {}
    for given in rows:
        if not isinstance(given, ResultRow):
            raise UsageError(f"record_run: expected ResultRow items, got {type(given).__name__}")
        if not given.test_id or not given.metric:
            raise UsageError(f"record_run: a result needs a test id and a metric, got {given!r}")
        if len(given.metric) > 64 or len(given.unit) > 32:
            raise UsageError(
                f"record_run: {given.test_id}: metric names are at most 64 characters and "
                f"units 32 (got {given.metric!r}, {given.unit!r})"
            )
        checked_samples(given.test_id, given.metric, given.samples)
        row = given
        if len(given.test_id) > MAX_TEST_ID:
            row = ResultRow(stored_test_id(given.test_id), given.metric, given.unit, given.samples)
        key = (row.test_id, row.metric)
        seen = merged.get(key)
        if seen is None:
            merged[key] = row
        elif seen.unit != row.unit:
            raise UsageError(
                f"record_run: {row.test_id} {row.metric} recorded in both {seen.unit!r} and {row.unit!r}"
            )
        else:
            merged[key] = ResultRow(row.test_id, row.metric, row.unit, seen.samples + row.samples)
    return list(merged.values())


def stored_test_id(test_id: str) -> str:
    """The test id as stored: ids longer than :data:`MAX_TEST_ID` characters keep their
    start and a hash of the whole (PostgreSQL cannot index keys of more than ~2.7 kB;
    pytest ids with huge parameters can be longer). Queries apply the same mapping."""
    if len(test_id) <= MAX_TEST_ID:
        return test_id
    digest = hashlib.sha256(test_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{test_id[: MAX_TEST_ID - 20]}…#{digest}"


def samples_json(samples: Sequence[float]) -> str:
    # repr() of a finite float is valid JSON and round-trips exactly; much faster than json.dumps.
    # Callers pass Python floats (ResultRow and put_baselines convert).
    return "[" + ",".join(map(float.__repr__, samples)) + "]"


def decode_samples(text: Any, where: str, *, table: str, **key: Any) -> tuple[float, ...]:
    """A ``samples`` cell as read back, or one :class:`DataError` naming the row.

    ``where`` is the database as shown to people; ``key`` is the row's primary key
    (column -> value) in ``table``, for the message and the statement that removes it.
    """
    try:
        values = json.loads(text)
        problem = "" if type(values) is list and values else "not a list of numbers"
        if not problem and not all(type(v) in (float, int) for v in values):
            problem = "not all numbers"
    except (TypeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        problem = f"not JSON: {getattr(exc, 'msg', exc)}"
    if not problem:
        return tuple(map(float, values))
    raise _corrupt(where, table, "samples", problem, key)


def decode_object(text: Any, where: str, *, table: str, column: str, **key: Any) -> dict[str, Any]:
    """A JSON object cell (a run's ``env`` or ``meta``), or one :class:`DataError` naming the row."""
    try:
        value = json.loads(text)
        problem = "" if type(value) is dict else "not a JSON object"
    except (TypeError, ValueError) as exc:
        problem = f"not JSON: {getattr(exc, 'msg', exc)}"
    if not problem:
        return value  # type: ignore[no-any-return]
    raise _corrupt(where, table, column, problem, key)


def _corrupt(where: str, table: str, column: str, problem: str, key: dict[str, Any]) -> DataError:
    row = ", ".join(f"{name} {value}" for name, value in key.items())
    match = " AND ".join(f"{name} = {_sql_literal(value)}" for name, value in key.items())
    return DataError(
        f"{where}: corrupt history database: the {column} cell of {row} is {problem}; remove that "
        f"row (DELETE FROM {table} WHERE {match}) or restore the database from a backup"
    )


def _sql_literal(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def checked_samples(test_id: str, metric: str, samples: Sequence[float]) -> Sequence[float]:
    if not samples:
        raise UsageError(f"{test_id} {metric}: no samples")
    # A finite sum means finite samples (inf or nan would make it inf or nan); only an
    # overflowing sum of huge values needs the element-wise look.
    if not math.isfinite(sum(samples)) and not all(math.isfinite(v) for v in samples):
        raise UsageError(f"{test_id} {metric}: samples must be finite numbers, got {list(samples)!r}")
    return samples


def run_info(row: sa.Row[Any], where: str, table: str) -> RunInfo:
    return RunInfo(
        row.id,
        row.created_at,
        row.kind,
        row.label,
        row.git_sha,
        row.git_branch,
        row.host,
        row.env_key,
        decode_object(row.env, where, table=table, column="env", id=row.id),
        decode_object(row.meta, where, table=table, column="meta", id=row.id),
        row.result_count,
    )


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, allow_nan=False)


def first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__
