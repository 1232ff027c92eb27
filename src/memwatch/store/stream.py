"""Read-only queries that stream the whole history one series at a time (for the dashboard).

:func:`iter_series` yields every (test, metric) series as two numpy arrays (run ids and
run values, oldest first) without reading the samples column: the database
concatenates each series server-side (``group_concat`` on SQLite, ``string_agg`` on
PostgreSQL, grouped along the results table's primary key), so a history of 10,000
runs × 1,000 tests costs one query and one string per series, and only one series is
in memory at a time. :func:`samples_of` then reads the repeated samples of the few
runs a caller needs (the latest run, the runs either side of a step).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from memwatch.model.history import RunInfo
from memwatch.store import schema as S
from memwatch.store.codec import stored_test_id
from memwatch.store.db import Store

__all__ = ["Series", "all_runs", "iter_series", "samples_of"]


@dataclass(frozen=True, eq=False)
class Series:
    """One test's metric over runs: ``run_ids`` ascending, ``values`` the run medians."""

    test_id: str
    metric: str
    unit: str
    run_ids: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return int(self.run_ids.size)


def all_runs(store: Store) -> list[RunInfo]:
    """Every recorded run, oldest first (runs are few next to results: 10,000 are ~10 MB)."""
    runs = store.runs(limit=None)
    runs.reverse()
    return runs


def _series_sql(backend: str, since_run: int) -> str:
    r = S.results.name
    if backend == "postgresql":
        ids, values = "string_agg(run_id::text, ',')", "string_agg(value::text, ',')"
    else:
        ids, values = "group_concat(run_id, ',')", "group_concat(value, ',')"
    where = f" WHERE run_id >= {int(since_run)}" if since_run > 0 else ""
    return (
        f"SELECT test_id, metric, max(unit), {ids}, {values} FROM {r}{where} "
        "GROUP BY test_id, metric ORDER BY test_id, metric"
    )


def iter_series(store: Store, *, since_run: int = 0) -> Iterator[Series]:
    """Every series with a result in run ``since_run`` or later, ordered by test id and metric.

    Values travel as text (SQLite prints 15 significant digits, PostgreSQL the
    shortest exact form): plenty for charts and step detection; callers that compare
    samples read them with :func:`samples_of`.
    """
    sql = _series_sql(store.backend, since_run)
    with store._tx() as conn:
        result = conn.execution_options(stream_results=True, yield_per=64).exec_driver_sql(sql)
        for test_id, metric, unit, id_text, value_text in result:
            run_ids = np.fromstring(id_text, dtype=np.int64, sep=",")
            values = np.fromstring(value_text, dtype=np.float64, sep=",")
            if run_ids.size != values.size:  # pragma: no cover - the database returned both in one group
                raise RuntimeError(f"series {test_id} {metric}: {run_ids.size} ids, {values.size} values")
            if run_ids.size > 1 and np.any(np.diff(run_ids) < 0):
                order = np.argsort(run_ids, kind="stable")
                run_ids, values = run_ids[order], values[order]
            yield Series(test_id, metric, unit or "", run_ids, values)


def samples_of(
    store: Store, test_id: str, metric: str, run_ids: Iterable[int]
) -> dict[int, tuple[float, ...]]:
    """The repeated samples of one series in the given runs (absent runs are left out)."""
    wanted = sorted({int(r) for r in run_ids})
    if not wanted:
        return {}
    t = S.results
    query = sa.select(t.c.run_id, t.c.samples).where(
        t.c.test_id == stored_test_id(test_id), t.c.metric == metric, t.c.run_id.in_(wanted)
    )
    with store._tx() as conn:
        return {int(run_id): tuple(json.loads(text)) for run_id, text in conn.execute(query)}
