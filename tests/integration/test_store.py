"""The history store on SQLite and on a real PostgreSQL: the same tests on both."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import sqlalchemy as sa

from memwatch.errors import DataError, UnavailableError, UsageError
from memwatch.model.base import dump_document, load_document
from memwatch.model.history import HistoryResult, ResultRow, TrendPoint
from memwatch.store import environment_fingerprint, environment_key, open_store
from memwatch.store import schema as S
from memwatch.store.engine import display_url, resolve_url
from tests.integration import store_backends

pytestmark = pytest.mark.integration
db_url = store_backends.db_url  # the fixture, on SQLite and PostgreSQL

ENV_A = {**environment_fingerprint(()), "python": "3.11.7", "python_minor": "3.11"}
ENV_B = {**ENV_A, "python": "3.12.1", "python_minor": "3.12"}


def rows(value: float, n: int = 3) -> list[ResultRow]:
    return [
        ResultRow("tests/test_a.py::test_one", "peak", "bytes", tuple(value + i for i in range(n))),
        ResultRow("tests/test_a.py::test_one", "growth", "bytes", (0.0,) * n),
        ResultRow("tests/test_b.py::test_two[<x>]", "peak", "bytes", (value * 2,)),
    ]


def test_record_and_read_back(db_url: str) -> None:
    with open_store(db_url) as store:
        run_id = store.record_run(
            "pytest",
            rows(1e6),
            label="first",
            meta={"workers": 4},
            git_sha="abc123",
            git_branch="main",
            env=ENV_A,
        )
        info = store.run(run_id)
        assert (info.kind, info.label, info.git_sha, info.git_branch) == ("pytest", "first", "abc123", "main")
        assert info.meta == {"workers": 4}
        assert info.env_key == environment_key(ENV_A) == "cpython3.11-linux-x86_64" or info.env_key
        assert info.result_count == 3
        got = store.results(run_id)
        assert got == sorted(rows(1e6), key=lambda r: (r.test_id, r.metric))
        assert [r.id for r in store.runs()] == [run_id]


def test_trend_oldest_first_limited_and_filtered_by_environment(db_url: str) -> None:
    with open_store(db_url) as store:
        ids = [
            store.record_run(
                "pytest",
                rows(1e6 * (k + 1)),
                env=ENV_A if k % 2 == 0 else ENV_B,
                git_sha=None,
                git_branch=None,
            )
            for k in range(6)
        ]
        trend = store.trend("tests/test_a.py::test_one", "peak")
        assert [p.run_id for p in trend] == ids
        assert [p.value for p in trend] == [1e6 * (k + 1) + 1 for k in range(6)]  # median of 3
        assert [p.run_id for p in store.trend("tests/test_a.py::test_one", "peak", limit=2)] == ids[-2:]
        only_a = store.trend("tests/test_a.py::test_one", "peak", env=ENV_A)
        assert [p.run_id for p in only_a] == ids[0::2]
        assert {p.env_key for p in only_a} == {environment_key(ENV_A)}
        assert store.trend("tests/test_a.py::test_one", "nope") == []
        assert store.metrics("tests/test_a.py::test_one") == ["growth", "peak"]
        assert store.runs(limit=2)[0].id == ids[-1]
        assert [r.id for r in store.runs(env=ENV_B)] == ids[1::2][::-1]


def test_duplicate_rows_in_one_run_merge_their_samples(db_url: str) -> None:
    with open_store(db_url) as store:
        run_id = store.record_run(
            "pytest",
            [ResultRow("t", "peak", "bytes", (1.0,)), ResultRow("t", "peak", "bytes", (2.0, 3.0))],
            env=ENV_A,
        )
        assert store.results(run_id) == [ResultRow("t", "peak", "bytes", (1.0, 2.0, 3.0))]
        with pytest.raises(UsageError, match="both 'bytes' and 'count'"):
            store.record_run(
                "pytest", [ResultRow("t", "peak", "bytes", (1.0,)), ResultRow("t", "peak", "count", (2.0,))]
            )


@pytest.mark.parametrize("bad", [[], [float("nan")], [float("inf")]])
def test_bad_samples_are_refused_and_nothing_is_written(db_url: str, bad: list[float]) -> None:
    with open_store(db_url) as store:
        with pytest.raises(UsageError, match="t peak"):
            store.record_run(
                "pytest",
                [ResultRow("ok", "peak", "bytes", (1.0,)), ResultRow("t", "peak", "bytes", tuple(bad))],
            )
        assert store.runs() == []


def test_baselines_per_environment_replace_and_from_run(db_url: str) -> None:
    with open_store(db_url) as store:
        first = store.record_run("pytest", rows(1e6), env=ENV_A, git_branch="main", git_sha="s1")
        set_ = store.set_baselines_from_run(first)
        assert len(set_) == 3
        base = store.baseline("tests/test_a.py::test_one", "peak", env=ENV_A)
        assert base is not None
        assert (base.samples, base.run_id, base.source) == ((1e6, 1e6 + 1, 1e6 + 2), first, f"run {first}")
        assert store.baseline("tests/test_a.py::test_one", "peak", env=ENV_B) is None
        store.set_baseline(
            "tests/test_a.py::test_one", "peak", "bytes", [5.0, 6.0], env=ENV_B, source="manual"
        )
        store.set_baseline("tests/test_a.py::test_one", "peak", "bytes", [7.0], env=ENV_A, source="again")
        all_envs = store.baselines("tests/test_a.py::test_one", "peak")
        assert [(b.env_key, b.samples, b.source) for b in all_envs] == sorted(
            [(environment_key(ENV_A), (7.0,), "again"), (environment_key(ENV_B), (5.0, 6.0), "manual")]
        )
        assert len(store.baselines()) == 4
        assert store.latest_run(branch="main") is not None
        assert store.latest_run(branch="other") is None


def test_missing_run_is_a_data_error(db_url: str) -> None:
    with open_store(db_url) as store, pytest.raises(DataError, match="no run 42"):
        store.results(42)


@pytest.mark.parametrize("run_id", [0, -1, 2**63, 10**30])
def test_run_ids_out_of_range_are_missing_runs(db_url: str, run_id: int) -> None:
    """10**30 used to be an OverflowError (exit 3 with a traceback from `baseline set`)."""
    with open_store(db_url) as store:
        with pytest.raises(DataError, match=f"no run {run_id}"):
            store.run(run_id)
        with pytest.raises(DataError, match=f"no run {run_id}"):
            store.set_baselines_from_run(run_id)


def test_negative_limits_are_refused(db_url: str) -> None:
    """SQLite reads LIMIT -1 as "no limit": a negative limit returned every row."""
    with open_store(db_url) as store:
        store.record_run("pytest", rows(1.0))
        assert store.trend("tests/test_a.py::test_one", "peak", limit=0) == []
        with pytest.raises(UsageError, match="limit must be a number >= 0"):
            store.trend("tests/test_a.py::test_one", "peak", limit=-1)
        with pytest.raises(UsageError, match="limit must be a number >= 0"):
            store.runs(limit=-1)


def test_reopen_keeps_data_and_schema_version(db_url: str) -> None:
    with open_store(db_url) as store:
        run_id = store.record_run("pytest", rows(1.0), env=ENV_A)
    with open_store(db_url) as store:
        assert store.results(run_id)
        with store._tx() as conn:
            assert conn.execute(sa.select(S.meta.c.value)).scalar() == str(S.SCHEMA_VERSION)


def _set_version(url: str, version: str) -> None:
    store = open_store(url)
    with store._tx(write=True) as conn:
        conn.execute(sa.update(S.meta).values(value=version))
    store.close()


def test_newer_schema_is_refused_naming_both_versions(db_url: str) -> None:
    _set_version(db_url, str(S.SCHEMA_VERSION + 5))
    with pytest.raises(
        DataError,
        match=rf"schema version {S.SCHEMA_VERSION + 5} is newer .* "
        rf"\(version {S.SCHEMA_VERSION}\)",
    ):
        open_store(db_url)


def test_older_schema_is_upgraded_step_by_step(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(db_url) as store:
        store.record_run("pytest", rows(1.0), env=ENV_A)
    calls: list[int] = []

    def v1_to_v2(conn: sa.Connection) -> None:
        calls.append(1)
        conn.execute(sa.text("ALTER TABLE memwatch_runs ADD COLUMN extra INTEGER"))

    monkeypatch.setattr(S, "SCHEMA_VERSION", S.SCHEMA_VERSION + 1)
    monkeypatch.setitem(S.MIGRATIONS, S.SCHEMA_VERSION - 1, v1_to_v2)
    with open_store(db_url) as store:
        assert len(store.runs()) == 1
        with store._tx() as conn:
            assert conn.execute(sa.select(S.meta.c.value)).scalar() == str(S.SCHEMA_VERSION)
            assert "extra" in {c["name"] for c in sa.inspect(conn).get_columns("memwatch_runs")}
    open_store(db_url).close()
    assert calls == [1]  # the second open found the new version


def test_unknown_old_version_without_migration_is_refused(db_url: str) -> None:
    _set_version(db_url, "0")
    with pytest.raises(DataError, match="corrupt history database"):
        open_store(db_url)


def test_corrupt_sqlite_file_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    path.write_bytes(b"this is not a database at all\n" * 200)
    with pytest.raises(DataError, match="not a memwatch history database"):
        open_store(str(path))
    assert path.read_bytes().startswith(b"this is not")  # untouched


def test_truncated_sqlite_file_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    with open_store(str(path)) as store:
        store.record_run("pytest", rows(1.0), env=ENV_A)
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\xff" * (len(data) - 100))
    with pytest.raises(DataError):
        open_store(str(path)).runs()


def test_missing_folder_and_directory_are_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        open_store(str(tmp_path / "nope" / "history.db"))
    with pytest.raises(DataError, match="is a directory"):
        open_store(str(tmp_path))


def test_unreachable_postgresql_is_a_clear_data_error() -> None:
    # Port 9 (discard) on localhost: nothing listens there; the connection is refused at once.
    if importlib.util.find_spec("psycopg") is None:
        pytest.skip("psycopg is not installed")
    with pytest.raises(
        DataError,
        match=r"cannot connect to the history database "
        r"postgresql\+psycopg://u:\*\*\*@127\.0\.0\.1:9/db",
    ) as info:
        open_store("postgresql://u:secret@127.0.0.1:9/db?connect_timeout=3")
    assert "secret" not in str(info.value)
    assert info.value.exit_code == 2


def test_missing_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "psycopg" else real(name, *a)
    )
    with pytest.raises(UnavailableError, match=r"pip install 'memwatch\[postgres\]'"):
        open_store("postgresql://u@127.0.0.1:9/db")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("history.db", "sqlite:///history.db"),
        ("/tmp/x.db", "sqlite:////tmp/x.db"),
        ("sqlite:///a.db", "sqlite:///a.db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_resolve_url(given: str, expected: str) -> None:
    assert resolve_url(given) == expected


def test_resolve_url_refuses_other_databases() -> None:
    with pytest.raises(UsageError, match="unsupported database URL"):
        resolve_url("mysql://u:pw@h/db")
    with pytest.raises(UsageError, match="unsupported PostgreSQL driver"):
        resolve_url("postgresql+psycopg2://u@h/db")
    assert "pw" not in display_url("postgresql+psycopg://u:pw@h/db")


def test_default_url_from_environment_and_default_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEMWATCH_DB", str(tmp_path / "env.db"))
    open_store().close()
    assert (tmp_path / "env.db").is_file()
    monkeypatch.delenv("MEMWATCH_DB")
    open_store().close()
    assert (tmp_path / ".memwatch" / "history.db").is_file()


def test_history_records_round_trip_through_json() -> None:
    point = TrendPoint(3, 1.5, 2.0, (1.0, 2.0, 3.0), "bytes", "abc", "main", "lbl", "k")
    doc = HistoryResult("t", "peak", "bytes", (point,), (), "k")
    assert load_document(dump_document(doc), expected=HistoryResult) == doc


def test_fingerprint_describes_this_interpreter() -> None:
    fp = environment_fingerprint()
    for key in (
        "python",
        "python_build",
        "implementation",
        "system",
        "machine",
        "cpu",
        "cpu_count",
        "memory_limit",
        "packages",
        "host",
    ):
        assert key in fp
    assert fp["packages"]["memwatch"]
    assert environment_key(fp).startswith(f"{fp['implementation']}{fp['python_minor']}-")


def test_check_run_gates_and_moves_baselines_on_confirmed_improvement(db_url: str) -> None:
    from memwatch.store import check_run

    def peak(mb: float) -> list[ResultRow]:
        return [ResultRow("t", "peak", "bytes", tuple(mb * 1e6 + d for d in (0, 1e4, -1e4, 2e4, -2e4)))]

    with open_store(db_url) as store:
        first = store.record_run("pytest", peak(100), env=ENV_A)
        store.set_baselines_from_run(first)
        better = store.record_run("pytest", peak(60), env=ENV_A)
        report = check_run(store, better)
        (c,) = report.checks
        assert (c.status, c.update_baseline, c.baseline_updated) == ("improved", True, True)
        moved = store.baseline("t", "peak", env=ENV_A)
        assert moved is not None
        assert (moved.run_id, moved.source) == (better, f"auto: improvement in run {better}")
        worse = store.record_run("pytest", peak(120), env=ENV_A)
        report = check_run(store, worse, gates=["peak:10%"])
        assert report.failed
        assert report.checks[0].severity == "critical"  # +100 % over the moved baseline
        other = store.record_run("pytest", peak(500), env=ENV_B)
        (c,) = check_run(store, other).checks
        assert c.status == "skipped"
        assert "python 3.11.7 vs 3.12.1" in c.reason
        no_update = store.record_run("pytest", peak(30), env=ENV_A)
        (c,) = check_run(store, no_update, update_baselines=False).checks
        assert (c.status, c.baseline_updated) == ("improved", False)
        assert store.baseline("t", "peak", env=ENV_A).run_id == better  # type: ignore[union-attr]


def test_git_info_from_ci_variables_then_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from memwatch.store.env import git_info

    for name in ("GITHUB_SHA", "CI_COMMIT_SHA", "GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"):
        monkeypatch.delenv(name, raising=False)
    assert git_info(str(tmp_path)) == (None, None)  # not a checkout
    monkeypatch.setenv("GITHUB_SHA", "f" * 40)
    monkeypatch.setenv("GITHUB_REF_NAME", "main")
    assert git_info(str(tmp_path)) == ("f" * 40, "main")
    monkeypatch.setenv("GITHUB_HEAD_REF", "feature/x")  # a pull request: the head branch
    assert git_info(str(tmp_path)) == ("f" * 40, "feature/x")


def test_record_run_fills_git_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_SHA", "e" * 40)
    monkeypatch.setenv("GITHUB_REF_NAME", "release")
    monkeypatch.delenv("GITHUB_HEAD_REF", raising=False)
    with open_store(str(tmp_path / "h.db")) as store:
        info = store.run(store.record_run("pytest", rows(1.0)))
    assert (info.git_sha, info.git_branch) == ("e" * 40, "release")
    assert info.env_key == environment_key(environment_fingerprint())
    assert info.env["packages"]["memwatch"]
    assert info.host == info.env["host"]


def test_very_long_test_ids_are_stored_shortened_and_found_again(db_url: str) -> None:
    import random
    import string

    from memwatch.store.codec import MAX_TEST_ID, stored_test_id

    rng = random.Random(5)
    long_id = (
        "tests/test_p.py::test_x["
        + "".join(rng.choice(string.ascii_letters + "é→") for _ in range(5000))
        + "]"
    )
    with open_store(db_url) as store:
        run_id = store.record_run(
            "pytest", [ResultRow(long_id, "peak", "bytes", (3.0,))], env=ENV_A, git_sha=None, git_branch=None
        )
        (row,) = store.results(run_id)
        assert row.test_id == stored_test_id(long_id)
        assert len(row.test_id) <= MAX_TEST_ID
        assert row.test_id.startswith("tests/test_p.py::test_x[")
        assert [p.value for p in store.trend(long_id, "peak")] == [3.0]
        store.set_baselines_from_run(run_id)
        assert store.baseline(long_id, "peak", env=ENV_A) is not None
    assert stored_test_id("short") == "short"


@pytest.mark.parametrize(
    ("kind", "row"),
    [
        ("x" * 40, ResultRow("t", "peak", "bytes", (1.0,))),
        ("pytest", ResultRow("t", "m" * 65, "bytes", (1.0,))),
        ("pytest", ResultRow("t", "peak", "u" * 33, (1.0,))),
    ],
)
def test_overlong_names_are_usage_errors(db_url: str, kind: str, row: ResultRow) -> None:
    with open_store(db_url) as store, pytest.raises(UsageError, match="record_run"):
        store.record_run(kind, [row], env=ENV_A)
