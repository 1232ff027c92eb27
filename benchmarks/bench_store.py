"""History store benchmarks: insert 100,000 results; one test's trend over 10,000 runs.

    .venv/bin/python benchmarks/bench_store.py [--quick] [--pg URL]

Targets (issue 5): inserting 100,000 results <= 2 s on SQLite; the trend query of
one test over 10,000 runs <= 50 ms. Each figure is the median of several repeats,
as wall time and as this process's CPU time. The machine is shared (load averages
of 5-9 on 2 cores are common), so wall time includes waiting for a core; CPU time
does not, and is what an idle machine's wall time would be for this single-threaded,
cached work. The verdict uses the CPU-time medians; both are printed.
The trend query is also timed side by side (A and B alternate) with the same query on
a copy of the database whose results sit in a plain rowid table with a secondary
(test_id, metric, run_id) index, to show what storing the table in trend order buys.
``--pg URL`` (or $MEMWATCH_TEST_PG_URL) runs the same on PostgreSQL, in a
throw-away schema.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from memwatch.model.history import ResultRow
from memwatch.store import Store, open_store
from memwatch.store import schema as S

ENV = {
    "implementation": "cpython",
    "python": "3.11.7",
    "python_minor": "3.11",
    "system": "linux",
    "machine": "x86_64",
    "host": "bench",
}


def make_rows(n: int, salt: int) -> list[ResultRow]:
    return [
        ResultRow(
            f"tests/test_mod_{i // 100}.py::test_case_{i}",
            "peak",
            "bytes",
            (1e6 + i + salt, 1.01e6 + i, 0.99e6 + i),
        )
        for i in range(n)
    ]


Timing = tuple[float, float]  # (wall seconds, CPU seconds)


def timed(fn: Callable[[], object]) -> Timing:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def bench_insert(url: str, repeats: int, n: int = 100_000) -> list[Timing]:
    """One record_run of ``n`` results (a fresh list each time, built untimed)."""
    times = []
    with open_store(url) as store:
        for k in range(repeats):
            rows = make_rows(n, k)
            times.append(
                timed(
                    lambda rows=rows: store.record_run("bench", rows, env=ENV, git_sha=None, git_branch=None)
                )
            )
    return times


def fill_runs(store: Store, runs: int, tests_per_run: int) -> None:
    """``runs`` runs of ``tests_per_run`` results each, written in bulk (set-up, not timed)."""
    env_json = json.dumps(ENV)
    with store._tx(write=True) as conn:
        conn.execute(
            sa.insert(S.runs),
            [
                {
                    "created_at": 1.79e9 + i,
                    "kind": "pytest",
                    "label": "",
                    "git_sha": f"{i:040x}",
                    "git_branch": "main",
                    "host": "bench",
                    "env_key": "cpython3.11-linux-x86_64",
                    "env": env_json,
                    "meta": "{}",
                    "result_count": tests_per_run,
                }
                for i in range(runs)
            ],
        )
        ids = [r for (r,) in conn.execute(sa.select(S.runs.c.id).order_by(S.runs.c.id))]
        for start in range(0, len(ids), 1000):
            conn.execute(
                sa.insert(S.results),
                [
                    {
                        "run_id": run_id,
                        "test_id": f"tests/test_mod.py::test_{t}",
                        "metric": "peak",
                        "unit": "bytes",
                        "value": 1e6 + t,
                        "samples": "[1000000.0,1010000.0,990000.0]",
                    }
                    for run_id in ids[start : start + 1000]
                    for t in range(tests_per_run)
                ],
            )


def time_trend(store: Store, limit: int) -> Timing:
    points: list[object] = []
    elapsed = timed(lambda: points.extend(store.trend("tests/test_mod.py::test_7", "peak", limit=limit)))
    assert len(points) == limit, len(points)
    return elapsed


def bench_trend_sqlite(
    folder: Path, runs: int, tests: int, repeats: int
) -> tuple[list[Timing], list[Timing]]:
    indexed = folder / "trend.db"
    with open_store(str(indexed)) as store:
        fill_runs(store, runs, tests)
    # B: the same rows in a plain rowid table with a secondary (test_id, metric, run_id)
    # index, in insertion order: the usual layout, and this store's first one.
    bare = folder / "trend-rowid.db"
    shutil.copy(indexed, bare)
    with open_store(str(bare)) as store, store._tx(write=True) as conn:
        for sql in (
            "CREATE TABLE r2 (test_id TEXT NOT NULL, metric VARCHAR(64) NOT NULL, run_id INTEGER NOT NULL,"
            " unit VARCHAR(32) NOT NULL, value FLOAT NOT NULL, samples TEXT NOT NULL)",
            "INSERT INTO r2 SELECT test_id, metric, run_id, unit, value, samples FROM memwatch_results"
            " ORDER BY run_id, test_id",
            "DROP TABLE memwatch_results",
            "ALTER TABLE r2 RENAME TO memwatch_results",
            "CREATE INDEX ix_b_trend ON memwatch_results (test_id, metric, run_id)",
        ):
            conn.exec_driver_sql(sql)
    a, b = [], []
    with open_store(str(indexed)) as sa_, open_store(str(bare)) as sb:
        time_trend(sa_, runs)
        time_trend(sb, runs)  # warm both
        for _ in range(repeats):
            a.append(time_trend(sa_, runs))
            b.append(time_trend(sb, runs))
    return a, b


def pg_url_in_schema(base: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}", schema


def drop_pg_schema(base: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def med(times: list[Timing], which: int = 1) -> float:
    return statistics.median(t[which] for t in times)


def fmt(times: list[Timing]) -> str:
    walls = [t[0] for t in times]
    return (
        f"cpu median {med(times) * 1000:7.1f} ms | wall median {med(times, 0) * 1000:7.1f} ms, "
        f"min {min(walls) * 1000:.1f} (n={len(times)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--pg", default=os.environ.get("MEMWATCH_TEST_PG_URL"), help="PostgreSQL URL")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    runs, tests = 10_000, 20
    ok = True
    with tempfile.TemporaryDirectory(prefix="memwatch-bench-") as tmp:
        folder = Path(tmp)
        ins = bench_insert(str(folder / "insert.db"), repeats)
        print(f"SQLite insert 100,000 results:        {fmt(ins)}   target <= 2000 ms")
        ok &= med(ins) <= 2.0
        a, b = bench_trend_sqlite(folder, runs, tests, repeats * 3)
        print(f"SQLite trend, 10,000 runs:            {fmt(a)}   target <= 50 ms")
        print(f"  same, rowid table + index:          {fmt(b)}   B/A {med(b) / med(a):.2f}x (cpu)")
        ok &= med(a) <= 0.05
    if args.pg:
        url, schema = pg_url_in_schema(args.pg)
        try:
            ins = bench_insert(url, repeats)
            print(f"PostgreSQL insert 100,000 results:    {fmt(ins)}")
            with open_store(url) as store:
                fill_runs(store, runs, tests)
                time_trend(store, runs)
                trend = [time_trend(store, runs) for _ in range(repeats * 3)]
            print(f"PostgreSQL trend, 10,000 runs:        {fmt(trend)}")
        finally:
            drop_pg_schema(args.pg, schema)
    else:
        print("PostgreSQL: skipped (no --pg URL and MEMWATCH_TEST_PG_URL unset)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
