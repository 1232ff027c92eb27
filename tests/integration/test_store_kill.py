"""A writer killed with SIGKILL in the middle of a transaction leaves whole runs only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from memwatch.model.history import ResultRow
from memwatch.store import open_store
from memwatch.store import schema as S
from tests.integration import store_backends

pytestmark = pytest.mark.integration
db_url = store_backends.db_url

ROOT = Path(__file__).resolve().parents[2]


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.store_workers", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _assert_whole_runs(url: str) -> dict[int, int]:
    """Every run has exactly its results; no result without a run. Returns {run id: results}."""
    with open_store(url) as store, store._tx() as conn:
        declared = dict(conn.execute(sa.select(S.runs.c.id, S.runs.c.result_count)).all())
        actual: dict[int, int] = dict(
            conn.execute(sa.select(S.results.c.run_id, sa.func.count()).group_by(S.results.c.run_id)).all()
        )
    assert actual == {k: v for k, v in declared.items() if v}
    return declared


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def test_sigkill_inside_the_transaction_leaves_the_committed_run_only(db_url: str) -> None:
    proc = _spawn("pause", db_url, "500")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "MID", proc.stderr.read() if proc.stderr else ""
    finally:
        _kill(proc)
    assert proc.returncode == -signal.SIGKILL
    runs = _assert_whole_runs(db_url)
    assert list(runs.values()) == [500]
    with open_store(db_url) as store:  # the write lock was released: writing works again
        run_id = store.record_run(
            "pytest", [ResultRow("t", "peak", "bytes", (1.0,))], git_sha=None, git_branch=None
        )
        assert store.results(run_id)


@pytest.mark.slow
def test_sigkill_at_a_random_moment_of_a_write_stream(db_url: str) -> None:
    proc = _spawn("stream", db_url, "2000")
    try:
        assert proc.stdout is not None
        committed = [int(proc.stdout.readline()) for _ in range(2)]
        time.sleep(0.15)  # somewhere in the middle of a later run
    finally:
        _kill(proc)
    assert proc.returncode == -signal.SIGKILL
    runs = _assert_whole_runs(db_url)
    assert set(committed) <= set(runs)
    assert all(count == 2000 for count in runs.values())
