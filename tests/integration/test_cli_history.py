"""``memwatch history``: the trend table, change points, plot, JSON and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from memwatch.cli import main
from memwatch.model.history import ResultRow
from memwatch.store import open_store

pytestmark = pytest.mark.integration
T0 = 1_795_200_000.0  # 2026-11-20 18:40 UTC
TEST = "tests/test_api.py::test_upload[<x>]"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = str(tmp_path / "history.db")
    rng = np.random.default_rng(0)
    with open_store(url) as store:
        for k in range(24):
            level = 48e6 if k < 15 else 64e6
            store.record_run(
                "pytest",
                [
                    ResultRow(TEST, "peak", "bytes", tuple(rng.normal(level, 3e5, 5))),
                    ResultRow(TEST, "growth", "bytes", (0.0, 1.0, 0.0)),
                ],
                git_sha=f"{k:040x}",
                git_branch="main",
                created_at=T0 + k * 3600,
            )
    return url


def test_trend_table_names_the_run_that_stepped_up(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", TEST, "--db", db]) == 0
    out = capsys.readouterr().out
    assert f"{TEST} · peak · last 24 runs" in out
    assert "main@0000000" in out
    assert out.count("▲ step up") == 1
    assert "run 16 (2026-11-21 09:40, main@0000000): peak stepped up 45.9 MiB -> 61.0 MiB (+33" in out


def test_json_document(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", TEST, "--db", db, "--json", "--limit", "12"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "history"
    assert [p["run_id"] for p in doc["data"]["points"]] == list(range(13, 25))
    assert [c["run_id"] for c in doc["data"]["change_points"]] == [16]


def test_no_change_point_is_said(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", TEST, "--db", db, "--metric", "growth"]) == 0
    assert "No change points: no step of 5% or more over 24 runs." in capsys.readouterr().out


def test_plot_is_written(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "trend.png"
    assert main(["history", TEST, "--db", db, "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000
    assert f"plot written to {png}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["history", "tests/nope.py::t"], "no history of tests/nope.py::t 'peak'"),
        (["history", TEST, "--metric", "rss"], "this test has growth, peak"),
        (["history", TEST, "--env", "cpython3.99-linux-x86_64"], "in environment cpython3.99-linux-x86_64"),
        (["history", TEST, "--min-change", "lots"], "invalid --min-change 'lots'"),
        (["history", TEST, "--plot", "/nonexistent/dir/x.png"], "folder /nonexistent/dir does not exist"),
        # a folder that takes no file (read-only, /proc): was a matplotlib traceback, exit 3
        (["history", TEST, "--plot", "/proc/memwatch-qa.png"], "cannot write /proc/memwatch-qa.png"),
    ],
)
def test_errors_exit_2_with_one_line(
    db: str, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*args, "--db", db]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert err.startswith("memwatch: error: ")


def test_corrupt_database_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"garbage" * 1000)
    assert main(["history", TEST, "--db", str(bad)]) == 2
    assert "not a memwatch history database" in capsys.readouterr().err


def test_unreachable_postgresql_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("psycopg", reason="psycopg is not installed")
    assert main(["history", TEST, "--db", "postgresql://u:pw@127.0.0.1:9/db?connect_timeout=3"]) == 2
    err = capsys.readouterr().err
    assert "cannot connect to the history database postgresql+psycopg://u:***@127.0.0.1:9/db" in err
    assert "pw" not in err.replace("psycopg", "")


def test_database_from_environment_variable(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMWATCH_DB", db)
    assert main(["history", TEST, "--limit", "3"]) == 0
    assert "last 3 runs" in capsys.readouterr().out


def test_database_from_the_config_file(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "memwatch.yaml").write_text(f"store:\n  url: {db}\n", encoding="utf-8")
    monkeypatch.chdir(project)
    monkeypatch.delenv("MEMWATCH_DB", raising=False)
    assert main(["history", TEST, "--limit", "4"]) == 0
    assert "last 4 runs" in capsys.readouterr().out
    (project / "memwatch.yaml").write_text("store:\n  uri: x\n", encoding="utf-8")
    assert main(["history", TEST]) == 2
    assert "memwatch.yaml:2: store.uri: unknown key" in capsys.readouterr().err


def test_mixed_environments_are_flagged_and_filtered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(tmp_path / "mixed.db")
    envs = [
        {"implementation": "cpython", "python_minor": minor, "system": "linux", "machine": "x86_64"}
        for minor in ("3.11", "3.12")
    ]
    with open_store(url) as store:
        for k in range(8):
            store.record_run(
                "pytest",
                [ResultRow("t", "peak", "bytes", (1e6 * (1 + k % 2),))],
                env=envs[k % 2],
                git_sha=None,
                git_branch=None,
                created_at=T0 + k,
            )
    assert main(["history", "t", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "note: these runs come from 2 environments" in out
    assert "cpython3.12-linux-x86_64" in out
    assert main(["history", "t", "--db", url, "--env", "cpython3.12-linux-x86_64"]) == 0
    out = capsys.readouterr().out
    assert "last 4 runs" in out
    assert "note:" not in out
    assert "No change points" in out


def test_markup_like_ids_print_verbatim_with_the_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(tmp_path / "markup.db")
    odd = "tests/t.py::test_x[bold][/x]"
    with open_store(url) as store:
        for k in range(6):
            store.record_run(
                "pytest",
                [ResultRow(odd, "peak", "bytes", (1e6 if k < 3 else 2e6,))],
                git_sha=None,
                git_branch=None,
                created_at=T0 + k,
            )
        store.set_baselines_from_run(3)
    assert main(["history", odd, "--db", url]) == 0
    out = capsys.readouterr().out
    assert f"{odd} · peak · last 6 runs" in out
    assert "Baseline [cpython" in out
    assert "976.6 KiB (median of 1), from run 3" in out
    assert main(["baseline", "show", "--db", url]) == 0
    assert odd in capsys.readouterr().out


def test_rates_print_with_separators_not_exponents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`memwatch history memwatch.benchset --metric allocation_rate` read "1.27516e+06 objects/s"."""
    url = str(tmp_path / "history.db")
    with open_store(url) as store:
        for k in range(3):
            run = store.record_run(
                "bench",
                [
                    ResultRow(
                        "memwatch.benchset",
                        "allocation_rate",
                        "objects/s",
                        (1_275_160.0 + k, 1_275_160.0 + k),
                    )
                ],
            )
    assert main(["history", "memwatch.benchset", "--metric", "allocation_rate", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "1,275,162 objects/s" in out
    assert "e+06" not in out
    assert main(["baseline", "set", "--from-run", str(run), "--db", url]) == 0
    assert main(["baseline", "show", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "1,275,162 objects/s" in out
    assert "e+06" not in out


@pytest.mark.parametrize(
    "args", [["history", TEST], ["baseline", "show"], ["baseline", "set", "--from-run", "1"]]
)
def test_a_missing_database_file_is_not_created_by_readers(
    tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A typo in --db used to leave a new empty database behind (and then say the test had no history)."""
    typo = tmp_path / "histroy.db"
    assert main([*args, "--db", str(typo)]) == 2
    err = capsys.readouterr().err
    assert (
        err == f"memwatch: error: no history database at {typo}: nothing has been recorded there "
        "(check --db / $MEMWATCH_DB, or record runs first)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_default_database_is_not_created_by_readers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MEMWATCH_DB", raising=False)
    assert main(["history", TEST]) == 2
    assert "no history database at .memwatch/history.db" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
