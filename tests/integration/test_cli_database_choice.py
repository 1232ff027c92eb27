"""Every command that reads or writes the history picks the same database from the same
setting: ``--db``, else ``$MEMWATCH_DB``, else ``store.url`` of the config file, else
``.memwatch/history.db`` (store.engine.configured_url, one place)."""

from __future__ import annotations

from pathlib import Path

import pytest

from memwatch.cli import main
from memwatch.model.history import ResultRow
from memwatch.store import open_store

pytestmark = pytest.mark.integration

TEST = "tests/test_x.py::test_x"

#: commands that only read the history; each needs a run in it (two runs for diff and compare)
READERS: dict[str, list[str]] = {
    "history": ["history", TEST],
    "history runs": ["history"],
    "history diff": ["history", "diff", "--base", "run:1", "--head", "run:2", "--format", "text"],
    "baseline show": ["baseline", "show"],
    "compare": ["compare", "1", "2"],
}


def _record_two_runs(url: str) -> None:
    with open_store(url) as store:
        for peak in (10e6, 11e6):
            store.record_run("pytest", [ResultRow(TEST, "peak", "bytes", (peak,) * 5)], git_sha=None)
        store.set_baselines_from_run(1)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose config names one database, with $MEMWATCH_DB naming another."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "memwatch.yaml").write_text(f"store:\n  url: {tmp_path / 'config.db'}\n", encoding="utf-8")
    monkeypatch.chdir(folder)
    monkeypatch.delenv("MEMWATCH_DB", raising=False)
    return folder


@pytest.mark.parametrize("argv", list(READERS.values()), ids=list(READERS))
def test_readers_take_db_then_environment_then_config(
    argv: list[str], project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("config.db", "env.db", "flag.db"):
        _record_two_runs(str(tmp_path / name))
    (tmp_path / "missing").mkdir()
    gone = str(tmp_path / "missing" / "none.db")

    # the config file's store.url alone
    assert main(argv) == 0
    # $MEMWATCH_DB wins over the config: a database that does not exist is an error, not the config's
    monkeypatch.setenv("MEMWATCH_DB", gone)
    assert main(argv) == 2
    monkeypatch.setenv("MEMWATCH_DB", str(tmp_path / "env.db"))
    assert main(argv) == 0
    # --db wins over both
    assert main([*argv, "--db", gone]) == 2
    assert main([*argv, "--db", str(tmp_path / "flag.db")]) == 0


def test_writers_record_where_the_readers_read(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bench --record and validate write into $MEMWATCH_DB over the config's store.url, like
    the readers (validate used to prefer the config's, bench had no --db)."""
    env_db = tmp_path / "env.db"
    monkeypatch.setenv("MEMWATCH_DB", str(env_db))
    assert main(["bench", "--quick", "--only", "cache_hit_rate", "--record"]) in (0, 1)
    assert env_db.exists()
    assert not (tmp_path / "config.db").exists()
    flag_db = tmp_path / "flag.db"
    assert main(["bench", "--quick", "--only", "cache_hit_rate", "--record", "--db", str(flag_db)]) in (0, 1)
    with open_store(str(flag_db), read_only=True) as store:
        assert len(store.runs()) == 1
