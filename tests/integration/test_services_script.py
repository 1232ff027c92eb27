"""scripts/services.sh is sourced under ``set -euo pipefail``: it must never stop the caller."""

from __future__ import annotations

import os
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
