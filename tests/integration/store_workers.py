"""Child processes for the store's concurrency and kill tests (run with ``python -m``).

python -m tests.integration.store_workers write URL NAME RUNS ROWS GO_FILE
    wait for GO_FILE, then record RUNS runs of ROWS results each, labelled NAME
python -m tests.integration.store_workers pause URL ROWS
    record one committed run, then start a second and stop inside its transaction
    (after the run row, before the results), printing MID and sleeping
python -m tests.integration.store_workers stream URL ROWS
    record runs of ROWS results for ever, printing the id of each committed one
"""

from __future__ import annotations

import os
import sys
import time

from memwatch.model.history import ResultRow
from memwatch.store import open_store

ENV = {
    "implementation": "cpython",
    "python": "3.11",
    "python_minor": "3.11",
    "system": "linux",
    "machine": "x86_64",
    "host": "test",
}


def _rows(name: str, run: int, count: int) -> list[ResultRow]:
    return [
        ResultRow(f"{name}::test_{i}", "peak", "bytes", (float(run), float(i), 1.0)) for i in range(count)
    ]


def write(url: str, name: str, runs: int, rows: int, go_file: str) -> None:
    store = open_store(url)
    deadline = time.monotonic() + 60
    while not os.path.exists(go_file) and time.monotonic() < deadline:
        time.sleep(0.005)
    for run in range(runs):
        store.record_run("pytest", _rows(name, run, rows), label=name, env=ENV, git_sha=None, git_branch=None)
    store.close()


def pause(url: str, rows: int) -> None:
    import sqlalchemy as sa

    store = open_store(url)
    store.record_run("pytest", _rows("committed", 0, rows), env=ENV, git_sha=None, git_branch=None)

    @sa.event.listens_for(store._engine, "after_cursor_execute")
    def _stop(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO MEMWATCH_RUNS"):
            print("MID", flush=True)
            time.sleep(120)

    store.record_run("pytest", _rows("killed", 1, rows), env=ENV, git_sha=None, git_branch=None)


def stream(url: str, rows: int) -> None:
    store = open_store(url)
    run = 0
    while True:
        run_id = store.record_run(
            "pytest", _rows("stream", run, rows), env=ENV, git_sha=None, git_branch=None
        )
        print(run_id, flush=True)
        run += 1


if __name__ == "__main__":
    mode, url, *rest = sys.argv[1:]
    if mode == "write":
        write(url, rest[0], int(rest[1]), int(rest[2]), rest[3])
    elif mode == "pause":
        pause(url, int(rest[0]))
    elif mode == "stream":
        stream(url, int(rest[0]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
