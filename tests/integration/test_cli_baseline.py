"""``memwatch baseline set|show``: from a run, from a branch, per environment; errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memwatch.cli import main
from memwatch.model.history import ResultRow
from memwatch.store import environment_key, open_store
from tests.integration import store_backends

pytestmark = pytest.mark.integration
db_url = store_backends.db_url
ENV = {
    "implementation": "cpython",
    "python": "3.11.7",
    "python_minor": "3.11",
    "system": "linux",
    "machine": "x86_64",
}
KEY = environment_key(ENV)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = str(tmp_path / "history.db")
    with open_store(url) as store:
        store.record_run(
            "pytest",
            [ResultRow("t::a", "peak", "bytes", (1e6, 2e6, 3e6)), ResultRow("t::b", "peak", "bytes", (5e6,))],
            env=ENV,
            git_sha="a" * 40,
            git_branch="main",
        )
        store.record_run(
            "pytest",
            [ResultRow("t::a", "peak", "bytes", (9e6,))],
            env=ENV,
            git_sha="b" * 40,
            git_branch="feature",
        )
        store.record_run(
            "validate",
            [ResultRow("t::a", "peak", "bytes", (7e6,))],
            env=ENV,
            git_sha="c" * 40,
            git_branch="main",
        )
    return url


def test_set_from_run_then_show(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baseline", "set", "--from-run", "1", "--db", db]) == 0
    assert capsys.readouterr().out == f"set 2 baselines (2 tests) from run 1 [{KEY}, main@aaaaaaa]\n"
    assert main(["baseline", "show", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "2 baselines" in out
    assert "t::a" in out
    assert "1.9 MiB" in out  # median of 1, 2, 3 MB
    assert "run 1" in out
    with open_store(db) as store:
        base = store.baseline("t::a", "peak", env=KEY)
        assert base is not None
        assert base.samples == (1e6, 2e6, 3e6)


def test_set_from_latest_and_latest_n(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baseline", "set", "--from-run", "latest", "--db", db]) == 0
    assert "from run 3" in capsys.readouterr().out
    assert main(["baseline", "set", "--from-run", "latest~2", "--db", db]) == 0
    assert "from run 1" in capsys.readouterr().out
    assert main(["baseline", "set", "--from-run", "latest", "--kind", "pytest", "--db", db]) == 0
    assert "from run 2" in capsys.readouterr().out
    with open_store(db) as store:
        base = store.baseline("t::a", "peak", env=KEY)
        assert base is not None
        assert (base.run_id, base.source, base.samples) == (2, "latest (run 2)", (9e6,))


def test_set_from_branch_uses_its_newest_run(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baseline", "set", "--branch", "main", "--db", db]) == 0
    assert "from run 3" in capsys.readouterr().out
    assert main(["baseline", "set", "--branch", "main", "--kind", "pytest", "--db", db]) == 0
    assert "from run 1" in capsys.readouterr().out
    with open_store(db) as store:
        base = store.baseline("t::a", "peak", env=KEY)
        assert base is not None
        assert (base.run_id, base.source) == (1, "branch main (run 1)")


def test_set_only_some_tests(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baseline", "set", "--from-run", "1", "--test", "t::b", "--db", db]) == 0
    capsys.readouterr()
    assert main(["baseline", "show", "--db", db, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["test_id"], r["env_key"], r["samples"]) for r in rows] == [("t::b", KEY, [5e6])]


def test_show_filters_and_empty(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baseline", "show", "t::a", "--db", db]) == 0
    assert "no baselines for t::a" in capsys.readouterr().out
    main(["baseline", "set", "--from-run", "1", "--db", db])
    capsys.readouterr()
    assert main(["baseline", "show", "t::a", "--env", "cpython3.12-linux-x86_64", "--db", db]) == 0
    assert "no baselines for t::a" in capsys.readouterr().out
    assert main(["baseline", "show", "t::a", "--metric", "peak", "--env", KEY, "--db", db]) == 0
    assert "1 baseline" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["baseline", "set"], "exactly one of --from-run ID or --branch NAME"),
        (["baseline", "set", "--from-run", "1", "--branch", "main"], "exactly one of"),
        (["baseline", "set", "--from-run", "42"], "no run 42"),
        (["baseline", "set", "--branch", "nope"], "no run recorded on branch 'nope'"),
        (
            ["baseline", "set", "--branch", "feature", "--kind", "validate"],
            "no run of kind 'validate' recorded on branch 'feature'",
        ),
        (["baseline", "set", "--from-run", "1", "--test", "t::zzz"], "run 1 has no results for t::zzz"),
        (
            ["baseline", "set", "--from-run", "x"],
            "--from-run 'x': expected a run id (1, 2, ...), latest or latest~N",
        ),
        (["baseline", "set", "--from-run", "latest~"], "expected a run id"),
        (["baseline", "set", "--from-run", "latest~3"], "--from-run latest~3: "),
        (
            ["baseline", "set", "--from-run", "latest~1", "--kind", "validate"],
            "holds 1 run of kind 'validate'",
        ),
        # was an OverflowError traceback, exit 3
        (["baseline", "set", "--from-run", "99999999999999999999"], "no run 99999999999999999999"),
    ],
)
def test_errors_exit_2(db: str, args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*args, "--db", db]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.startswith("memwatch: error: ")


def test_history_and_baseline_commands_on_both_backends(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_store(db_url) as store:
        for k in range(8):
            store.record_run(
                "pytest",
                [ResultRow("t::a", "peak", "bytes", (1e6 if k < 4 else 2e6,))],
                env=ENV,
                git_sha=None,
                git_branch="main",
            )
    assert main(["history", "t::a", "--db", db_url]) == 0
    assert "run 5 (" in capsys.readouterr().out
    assert main(["baseline", "set", "--branch", "main", "--db", db_url]) == 0
    assert "from run 8" in capsys.readouterr().out
    assert main(["baseline", "show", "--db", db_url, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["run_id"], row["samples"]) == (8, [2e6])
