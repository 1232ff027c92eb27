"""Faults and foreign files for the history database.

- read-only commands (``history``, ``baseline show``) open read-only: someone else's
  SQLite file, a 0-byte file or a memwatch database is left byte-for-byte unchanged;
- a write to a damaged database (``PRAGMA quick_check`` fails) is refused with a
  message that says how to recover;
- ``record_run`` SIGKILLed at every step (before every SQL statement and every 200
  SQLite VM instructions), then restarted and killed again at every step, never
  leaves a partial run and never loses a committed one.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from memwatch.cli import main
from memwatch.errors import DataError, UsageError
from memwatch.model.history import ResultRow
from memwatch.store import open_store
from memwatch.store import schema as S

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs fork and SIGKILL"),
]

ENV = {"python": "3.12", "system": "linux"}
ROWS = 10
VM_STEP = 200  # SQLite VM instructions between two kill points


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: digest(p) for p in sorted(folder.iterdir()) if p.is_file()}


def rows(run: int) -> list[ResultRow]:
    return [ResultRow(f"t::{i}", "peak", "bytes", (float(run * 1000 + i),)) for i in range(ROWS)]


def record(url: str, run: int) -> int:
    with open_store(url) as store:
        return store.record_run("pytest", rows(run), env=ENV, git_sha=None, git_branch=None, label=f"r{run}")


# -- read-only commands never change a file they did not create -------------------------


def foreign_files(folder: Path) -> list[Path]:
    foreign = folder / "app.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.executemany("INSERT INTO users (name) VALUES (?)", [(f"u{i}",) for i in range(100)])
    conn.commit()
    conn.close()
    empty = folder / "empty.db"
    empty.write_bytes(b"")
    junk = folder / "notes.txt"
    junk.write_bytes(b"not a database\n" * 100)
    return [foreign, empty, junk]


@pytest.mark.parametrize(
    "argv",
    [["history", "t::0"], ["baseline", "show"], ["baseline", "show", "--json"]],
    ids=["history", "baseline-show", "baseline-show-json"],
)
def test_read_commands_leave_foreign_files_unchanged(
    tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    for path in foreign_files(tmp_path):
        before = snapshot(tmp_path)
        mode = path.stat().st_mode
        assert main([*argv, "--db", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert f"{path}: not a memwatch history database" in err
        assert snapshot(tmp_path) == before, f"{argv} changed {path.name} or left files beside it"
        assert path.stat().st_mode == mode
    conn = sqlite3.connect(tmp_path / "app.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["users"]
    conn.close()


def test_a_write_command_refuses_a_foreign_database_without_touching_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = foreign_files(tmp_path)[0]
    before = snapshot(tmp_path)
    assert main(["baseline", "set", "--from-run", "1", "--db", str(foreign)]) == 2
    assert "not a memwatch history database (it holds other tables: users)" in capsys.readouterr().err
    with pytest.raises(DataError, match="holds other tables"):
        open_store(str(foreign))
    assert snapshot(tmp_path) == before


def test_read_commands_leave_a_memwatch_database_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(tmp_path / "h.db")
    record(url, 1)
    assert main(["baseline", "set", "--from-run", "1", "--db", url]) == 0
    before = digest(tmp_path / "h.db")
    assert main(["history", "t::3", "--db", url, "--json"]) == 0
    assert main(["baseline", "show", "--db", url]) == 0
    assert "t::3" in capsys.readouterr().out
    assert digest(tmp_path / "h.db") == before
    with open_store(url, read_only=True) as store, pytest.raises(UsageError, match="read-only"):
        store.record_run("pytest", rows(2), env=ENV, git_sha=None, git_branch=None)


def test_a_read_only_store_sees_what_a_live_writer_commits(tmp_path: Path) -> None:
    url = str(tmp_path / "h.db")
    with open_store(url) as writer:
        writer.record_run("pytest", rows(1), env=ENV, git_sha=None, git_branch=None)
        with open_store(url, read_only=True) as reader:
            assert [r.id for r in reader.runs()] == [1]
            writer.record_run("pytest", rows(2), env=ENV, git_sha=None, git_branch=None)
            assert [r.id for r in reader.runs()] == [2, 1]
            assert reader.trend("t::5", "peak")[-1].value == 2005.0


def test_new_database_files_honour_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o002)
    try:
        record(str(tmp_path / "h.db"), 1)
    finally:
        os.umask(old)
    assert (tmp_path / "h.db").stat().st_mode & 0o777 == 0o664


# -- a damaged database takes no writes --------------------------------------------------


def damaged(tmp_path: Path) -> Path:
    path = tmp_path / "h.db"
    for run in range(1, 31):
        record(str(path), run)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    assert pages > 10
    with open(path, "r+b") as handle:  # one page in the middle: random garbage
        handle.seek(page_size * (pages // 2))
        handle.write(random.Random(14).randbytes(page_size))
    return path


def test_writes_to_a_database_failing_quick_check_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = damaged(tmp_path)
    before = digest(path)
    with open_store(str(path)) as store:
        with pytest.raises(DataError) as caught:
            store.record_run("pytest", rows(99), env=ENV, git_sha=None, git_branch=None)
        message = str(caught.value)
        assert "damaged" in message
        assert "quick_check" in message
        assert f"sqlite3 {path} .recover" in message
        with pytest.raises(DataError, match="damaged"):
            store.set_baseline("t::1", "peak", "bytes", [1.0], env=ENV)
    assert main(["baseline", "set", "--from-run", "1", "--db", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert ".recover" in err
    assert digest(path) == before


@pytest.mark.parametrize(
    "cell",
    ["[1.0, 2", "", "null", "[]", '["x"]', "{}", "[true]"],
    ids=["truncated", "empty", "null", "empty-list", "string", "object", "bool"],
)
def test_every_read_of_a_damaged_samples_cell_names_the_row(tmp_path: Path, cell: str) -> None:
    from memwatch.store.stream import samples_of

    path = tmp_path / "h.db"
    with open_store(str(path)) as store:
        for _ in range(3):
            run_id = store.record_run("pytest", rows(3), env=ENV, git_sha=None, git_branch=None)
        store.set_baselines_from_run(run_id)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE memwatch_results SET samples = ? WHERE run_id = 2 AND test_id = 't::1'", (cell,))
        conn.execute("UPDATE memwatch_baselines SET samples = ? WHERE test_id = 't::2'", (cell,))
    conn.close()
    row = ("h.db", "corrupt history database", "run_id 2", "t::1", "peak", "DELETE FROM memwatch_results")
    with open_store(str(path), read_only=True) as store:
        reads: list[Callable[[], Any]] = [
            lambda: store.results(2),
            lambda: store.trend("t::1", "peak"),
            lambda: samples_of(store, "t::1", "peak", [1, 2, 3]),
        ]
        for read in reads:
            with pytest.raises(DataError) as caught:
                read()
            assert all(word in str(caught.value) for word in row), str(caught.value)
        with pytest.raises(DataError, match=r"t::2.*DELETE FROM memwatch_baselines"):
            store.baselines()
        # the undamaged rows still read
        assert store.results(1)[1].samples == rows(3)[1].samples
        assert len(store.trend("t::0", "peak")) == 3


@pytest.mark.parametrize("column", ["env", "meta"])
@pytest.mark.parametrize("cell", ["{", "", "[1]", "null"], ids=["truncated", "empty", "list", "null"])
def test_a_damaged_run_cell_names_the_run(tmp_path: Path, column: str, cell: str) -> None:
    path = tmp_path / "h.db"
    with open_store(str(path)) as store:
        for _ in range(2):
            run_id = store.record_run("pytest", rows(2), env=ENV, git_sha=None, git_branch=None)
        store.set_baselines_from_run(run_id)
    with sqlite3.connect(path) as conn:
        conn.execute(f"UPDATE memwatch_runs SET {column} = ? WHERE id = 2", (cell,))
        if column == "env":
            conn.execute("UPDATE memwatch_baselines SET env = ? WHERE test_id = 't::1'", (cell,))
    conn.close()
    with open_store(str(path), read_only=True) as store:
        for read in (lambda: store.run(2), store.runs):
            with pytest.raises(DataError) as caught:
                read()
            message = str(caught.value)
            assert f"the {column} cell of id 2 is" in message, message
            assert "DELETE FROM memwatch_runs WHERE id = 2" in message, message
        assert store.run(1).id == 1  # the undamaged run still reads
        if column == "env":
            with pytest.raises(DataError, match=r"env cell of test_id t::1.*DELETE FROM memwatch_baselines"):
                store.baselines()


# -- record_run killed at every step, twice ---------------------------------------------


def whole_runs(url: str) -> dict[int, str]:
    """{run id: label}, asserting every run holds exactly its results (none partial)."""
    with open_store(url, read_only=True) as store, store._tx() as conn:
        declared = dict(conn.execute(sa.select(S.runs.c.id, S.runs.c.result_count)).all())
        actual: dict[int, int] = dict(
            conn.execute(sa.select(S.results.c.run_id, sa.func.count()).group_by(S.results.c.run_id)).all()
        )
        labels = dict(conn.execute(sa.select(S.runs.c.id, S.runs.c.label)).all())
    assert actual == {k: v for k, v in declared.items() if v}, "a partial run is in the store"
    assert set(declared.values()) <= {ROWS}
    return labels


def killing_record(
    url: str, run: int, kill_at: int | None, count: Callable[[int], None] | None = None
) -> bool:
    """``record_run`` in a forked child SIGKILLed at step ``kill_at``; True when killed.

    A step is the start of an SQL statement (trace callback) or ``VM_STEP`` SQLite VM
    instructions (progress handler), counted from the moment the store is open."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            os.close(read_end)
            from memwatch.store import db

            steps = [0]
            armed = [False]

            def step(*_: Any) -> int:
                if armed[0]:
                    if kill_at is not None and steps[0] == kill_at:
                        os.kill(os.getpid(), signal.SIGKILL)
                    steps[0] += 1
                return 0

            real = db.create_engine  # type: ignore[attr-defined]

            def hooked_engine(url: str, **kwargs: Any) -> sa.Engine:
                engine = real(url, **kwargs)

                @sa.event.listens_for(engine, "connect")
                def _hook(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
                    dbapi_conn.set_trace_callback(step)
                    dbapi_conn.set_progress_handler(step, VM_STEP)

                return engine

            db.create_engine = hooked_engine  # type: ignore[attr-defined]
            with db.open_store(url) as store:
                armed[0] = True
                store.record_run("pytest", rows(run), env=ENV, git_sha=None, git_branch=None, label=f"r{run}")
                armed[0] = False
            os.write(write_end, str(steps[0]).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with open(read_end, "rb") as received:
        total = received.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return True
    assert os.WEXITSTATUS(status) == 0, "the writer failed without being killed"
    if count is not None:
        count(int(total))
    return False


def test_record_run_killed_at_every_step_twice_leaves_whole_runs(tmp_path: Path) -> None:
    template = tmp_path / "template.db"
    record(str(template), 1)
    counted: list[int] = []
    dry = tmp_path / "dry.db"
    dry.write_bytes(template.read_bytes())
    assert not killing_record(str(dry), 2, None, counted.append)
    [total] = counted
    assert total >= 5  # BEGIN, the run, the results, COMMIT and VM steps between
    for first in range(total + 1):
        for second in (*range(0, total + 1, max(1, total // 6)), total):
            path = tmp_path / f"k{first}-{second}.db"
            path.write_bytes(template.read_bytes())
            url = str(path)
            expected = {1: "r1"}
            if not killing_record(url, 2, first if first < total else None):
                expected[2] = "r2"
            assert whole_runs(url) == expected
            if not killing_record(url, 3, second if second < total else None):
                expected[max(expected) + 1] = "r3"
            assert whole_runs(url) == expected
            # after the kills the store takes writes again and passes its integrity check
            record(url, 4)
            assert list(whole_runs(url).values())[-1] == "r4"
            path.unlink()
            for extra in ("-wal", "-shm"):
                Path(url + extra).unlink(missing_ok=True)


# -- record_run killed inside SQLite's own I/O (strace syscall fault injection) ----------

WRITER = """
import sys
from memwatch.model.history import ResultRow
from memwatch.store import open_store
run = int(sys.argv[2])
with open_store(sys.argv[1]) as store:
    store.record_run("pytest", [ResultRow(f"t::{i}", "peak", "bytes", (float(run * 1000 + i),))
                                for i in range(ROWS)], env=ENV, git_sha=None, git_branch=None, label=f"r{run}")
    print("committed", flush=True)
""".replace("ROWS", str(ROWS)).replace("ENV", repr(ENV))
IO_CALLS = ("pwrite64", "fdatasync", "fsync")


def strace_usable() -> bool:
    import shutil
    import subprocess

    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(["strace", "-o", "/dev/null", "true"], capture_output=True, check=False)
    return probe.returncode == 0


def traced_writer(url: str, run: int, kill: tuple[str, int] | None, log: Path | None = None) -> bool:
    """Run the writer under strace, SIGKILLed at the n-th call of one I/O syscall;
    True when it said it committed."""
    import subprocess

    command = ["strace", "-f", "-qq", "-o", str(log or os.devnull), "-e", f"trace={','.join(IO_CALLS)}"]
    if kill is not None:
        command += ["-e", f"inject={kill[0]}:signal=SIGKILL:when={kill[1]}"]
    done = subprocess.run(
        [*command, sys.executable, "-c", WRITER, url, str(run)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    if kill is None:
        assert done.returncode == 0, done.stderr
    return "committed" in done.stdout


@pytest.mark.slow
@pytest.mark.skipif(not strace_usable(), reason="needs strace with ptrace allowed")
def test_record_run_killed_at_every_write_and_sync_of_sqlite_keeps_whole_runs(tmp_path: Path) -> None:
    template = tmp_path / "template.db"
    record(str(template), 1)
    dry = tmp_path / "dry.db"
    dry.write_bytes(template.read_bytes())
    log = tmp_path / "strace.log"
    assert traced_writer(str(dry), 2, None, log)
    calls = [line.split()[1].split("(")[0] for line in log.read_text().splitlines() if "(" in line]
    counts = {name: calls.count(name) for name in IO_CALLS if name in calls}
    assert counts.get("pwrite64", 0) >= 3, counts  # the WAL frames at least
    points = [(name, n) for name, total in counts.items() for n in range(1, total + 1)]
    writes = counts["pwrite64"]
    seen_committed = False
    for index, point in enumerate(points):
        path = tmp_path / f"{point[0]}-{point[1]}.db"
        path.write_bytes(template.read_bytes())
        url = str(path)
        said = traced_writer(url, 2, point)
        labels = whole_runs(url)
        assert labels in ({1: "r1"}, {1: "r1", 2: "r2"}), labels
        if said:
            assert 2 in labels, f"run 2 said it committed but is lost after a kill at {point}"
        seen_committed |= 2 in labels
        if point[0] == "pwrite64" and index % 3:
            continue
        # restart, killed again at another write: still whole runs, nothing committed lost
        said_again = traced_writer(url, 3, ("pwrite64", (index * 7) % writes + 1))
        again = whole_runs(url)
        assert set(labels.items()) <= set(again.items()), f"a committed run was lost: {labels} -> {again}"
        if said_again:
            assert "r3" in again.values()
        record(url, 4)  # and the store takes writes again (it passes quick_check)
        assert list(whole_runs(url).values())[-1] == "r4"
    assert seen_committed  # some kill came after the commit: both outcomes were exercised
