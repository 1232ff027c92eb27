"""Concurrent writers lose no record: four worker-like processes and two big
"controller" writers at once, on one SQLite file and on PostgreSQL, counted."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from memwatch.store import open_store
from memwatch.store import schema as S
from tests.integration import store_backends

pytestmark = [pytest.mark.integration, pytest.mark.slow]
db_url = store_backends.db_url

ROOT = Path(__file__).resolve().parents[2]
# name, runs, results per run
WRITERS = [
    ("worker0", 30, 10),
    ("worker1", 30, 10),
    ("worker2", 30, 10),
    ("worker3", 30, 10),
    ("controllerA", 4, 2500),
    ("controllerB", 4, 2500),
]


def test_simultaneous_writers_lose_no_record(db_url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    # The database does not exist yet: the six processes also race to create the schema.
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.store_workers",
                "write",
                db_url,
                name,
                str(runs),
                str(rows),
                str(go),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, runs, rows in WRITERS
    ]
    try:
        time.sleep(0.5)
        go.touch()
        for proc in procs:
            _out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    with open_store(db_url) as store, store._tx() as conn:
        per_label: dict[str, int] = dict(
            conn.execute(sa.select(S.runs.c.label, sa.func.count()).group_by(S.runs.c.label)).all()
        )
        results: dict[str, int] = dict(
            conn.execute(
                sa.select(S.runs.c.label, sa.func.count())
                .join(S.results, S.results.c.run_id == S.runs.c.id)
                .group_by(S.runs.c.label)
            ).all()
        )
        versions = conn.execute(sa.select(sa.func.count()).select_from(S.meta)).scalar()
    assert per_label == {name: runs for name, runs, _ in WRITERS}
    assert results == {name: runs * rows for name, runs, rows in WRITERS}
    assert versions == 1
