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

import queue
import threading
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from memwatch.model.history import RunInfo
from memwatch.store import schema as S
from memwatch.store.codec import decode_samples, stored_test_id
from memwatch.store.db import Store

__all__ = ["Series", "all_runs", "iter_series", "samples_of"]

_Row = tuple[str, str, str, str, str]


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


def _rows(store: Store, sql: str) -> Generator[_Row, None, None]:
    with store._tx() as conn:
        result = conn.execution_options(stream_results=True, yield_per=64).exec_driver_sql(sql)
        for row in result:
            yield row[0], row[1], row[2], row[3], row[4]


def _prefetched(rows: Generator[_Row, None, None], depth: int) -> Iterator[_Row]:
    """``rows`` read ahead by a thread (the database works while the caller computes;
    both drivers release the GIL while they wait), at most ``depth`` rows ahead."""
    box: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for row in rows:
                while not stop.is_set():
                    try:
                        box.put(("row", row), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(("end", None))
        except BaseException as exc:  # handed to the caller's thread
            box.put(("error", exc))
        finally:
            rows.close()

    worker = threading.Thread(target=produce, name="memwatch-series-reader", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = box.get()
            if kind == "row":
                yield item  # type: ignore[misc]
            elif kind == "error":
                raise item  # type: ignore[misc]
            else:
                return
    finally:
        stop.set()
        while worker.is_alive():
            try:
                box.get(timeout=0.1)
            except queue.Empty:
                continue
        worker.join()


def iter_series(store: Store, *, since_run: int = 0, read_ahead: int = 16) -> Iterator[Series]:
    """Every series with a result in run ``since_run`` or later, ordered by test id and metric.

    Values travel as text (SQLite prints 15 significant digits, PostgreSQL the
    shortest exact form): plenty for charts and step detection; callers that compare
    samples read them with :func:`samples_of`. A reader thread keeps up to
    ``read_ahead`` series ready (0: read in the caller's thread).
    """
    rows = _rows(store, _series_sql(store.backend, since_run))
    for test_id, metric, unit, id_text, value_text in (
        _prefetched(rows, read_ahead) if read_ahead > 0 else rows
    ):
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
        return {
            int(run_id): decode_samples(
                text,
                store.display_url,
                table=t.name,
                run_id=int(run_id),
                test_id=stored_test_id(test_id),
                metric=metric,
            )
            for run_id, text in conn.execute(query)
        }
