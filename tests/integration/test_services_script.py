"""scripts/services.sh is sourced under ``set -euo pipefail``: it must never stop the caller."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.store_backends import PG_SKIP, PG_URL

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _source(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = (
        "set -euo pipefail; source scripts/services.sh; "
        'echo "url=${MEMWATCH_TEST_PG_URL:-}"; echo "reason=${MEMWATCH_TEST_PG_SKIP_REASON:-}"; '
        "echo still-running"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMWATCH_TEST_PG")}
    return subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env={**env, **extra_env},
        text=True,
        capture_output=True,
        timeout=300,
        check=False,
    )


def test_an_impossible_cluster_is_reported_and_the_caller_goes_on(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = _source({"MEMWATCH_PG_DIR": str(blocker / "pg"), "MEMWATCH_PG_PORT": "55499"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith("still-running")
    assert "url=\n" in proc.stdout
    reason = proc.stdout.split("reason=", 1)[1].splitlines()[0]
    assert reason  # "cannot create ...", or why PostgreSQL cannot be installed here
    assert "PostgreSQL unavailable" in proc.stdout


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason=PG_SKIP)
def test_sourcing_again_reuses_the_running_cluster() -> None:
    t0 = time.monotonic()
    proc = _source({})
    assert proc.returncode == 0, proc.stderr
    assert f"url={PG_URL}\n" in proc.stdout
    assert time.monotonic() - t0 < 30


def _pg_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: p.parent.parent.name)
    return found[-1].parent if found else None


def _running(pg_dir: Path) -> bool:
    pid_file = pg_dir / "postmaster.pid"
    if not pid_file.exists():
        return False
    return Path("/proc", pid_file.read_text().split()[0]).exists()


@pytest.mark.skipif(
    _pg_bindir() is None, reason="PostgreSQL is not installed (scripts/setup.sh installs it as root)"
)
def test_stop_stops_the_cluster_it_started_and_leaves_one_started_by_hand() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pg_dir = Path(f"/tmp/memwatch-pg-test-{os.getpid()}")  # the postgres user must reach it
    bindir = _pg_bindir()
    as_postgres = "runuser -u postgres -- " if os.getuid() == 0 else ""
    by_hand = (
        f"{as_postgres}{bindir}/pg_ctl -D {pg_dir} -l {pg_dir}/server.log -w -t 60 "
        f'-o "-p {port} -k {pg_dir} -c listen_addresses=127.0.0.1" '
    )
    env = {"MEMWATCH_PG_DIR": str(pg_dir), "MEMWATCH_PG_PORT": str(port)}
    source_and_stop = "set -euo pipefail; source scripts/services.sh; memwatch_services_stop"
    try:
        started = subprocess.run(
            ["bash", "-c", source_and_stop],
            cwd=ROOT,
            env={**os.environ, **env},
            text=True,
            capture_output=True,
            timeout=300,
            check=False,
        )
        assert started.returncode == 0, started.stderr
        assert "== services: started PostgreSQL" in started.stdout, started.stdout
        assert "== services: PostgreSQL stopped" in started.stdout, started.stdout
        assert not _running(pg_dir)

        subprocess.run(["bash", "-c", by_hand + "start"], check=True, capture_output=True, timeout=120)
        assert _running(pg_dir)
        reused = subprocess.run(
            ["bash", "-c", source_and_stop],
            cwd=ROOT,
            env={**os.environ, **env},
            text=True,
            capture_output=True,
            timeout=300,
            check=False,
        )
        assert reused.returncode == 0, reused.stderr
        assert "started PostgreSQL" not in reused.stdout
        assert "stopped" not in reused.stdout
        assert _running(pg_dir)
    finally:
        if _running(pg_dir):
            subprocess.run(
                ["bash", "-c", by_hand + "stop -m fast"], check=False, capture_output=True, timeout=120
            )
        subprocess.run(
            ["rm", "-rf", str(pg_dir), f"{pg_dir}.users", f"{pg_dir}.started", f"{pg_dir}.initdb.log"],
            check=False,
        )
