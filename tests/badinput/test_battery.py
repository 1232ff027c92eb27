"""Every command with malformed input: exit 2 (or the documented code), one line naming the problem."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import memwatch
from memwatch.cli._outpath import check_writable
from memwatch.cli.stress import clean_stale_folders
from memwatch.errors import UsageError, user_traceback

from .conftest import LONG, Outcome

Mw = Callable[..., Outcome]


@pytest.mark.parametrize(
    "argv",
    [
        ["stress", "bi_targets:ok", "--limit", "1e400GB"],
        ["stress", "bi_targets:ok", "--size", "1e400GB"],
        ["leaks", "bi_targets:ok", "--max-growth", "1e400GB"],
        ["compare", "a.json", "b.json", "--min-change", "1e400GB"],
        ["leaks", "bi_targets:ok", "--max-growth", "12 XB"],
        ["stress", "bi_targets:ok", "--limit", "nan"],
    ],
)
def test_malformed_sizes(mw: Mw, argv: list[str]) -> None:
    mw(*argv).assert_one_line(2, "invalid size")


@pytest.mark.parametrize("text", ["99999999999999999999", "1,2,3,4", "a", "-1", "2147483648"])
def test_gc_thresholds(mw: Mw, text: str) -> None:
    mw("gc", "bi_targets:ok", "--thresholds", text).assert_one_line(2, "threshold")


@pytest.mark.parametrize("command", ["leaks", "gc"])
@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("bi_nosuch:f", ("bi_nosuch",)),
        ("bi_targets:nothere", ("nothere",)),
        ("bi_targets:NOT_CALLABLE", ("not callable",)),
        ("bi_targets:needs", ("without arguments",)),
        ("no-colon", ("module:callable",)),
        ("bi_targets:ünïcode", ("ünïcode",)),
    ],
)
def test_bad_targets_same_code_in_leaks_and_gc(
    mw: Mw, command: str, target: str, words: tuple[str, ...]
) -> None:
    mw(command, target).assert_one_line(2, *words)


@pytest.mark.parametrize("command", ["leaks", "gc"])
def test_target_calling_sys_exit(mw: Mw, command: str) -> None:
    mw(command, "bi_targets:exits").assert_one_line(3, "sys.exit(7)")


MEMWATCH_SOURCE = os.path.dirname(os.path.abspath(memwatch.__file__))


@pytest.mark.parametrize(
    "argv",
    [
        ["leaks", "bi_targets:boom_chained"],
        ["leaks", "bi_targets:boom_async"],
        ["leaks", "--isolate", "bi_targets:boom_chained"],
        ["gc", "bi_targets:boom_chained", "-n", "5"],
        ["gc", "bi_targets:boom_async", "-n", "5"],
    ],
)
def test_a_raising_target_shows_only_its_own_frames(mw: Mw, argv: list[str]) -> None:
    outcome = mw(*argv)
    assert outcome.code == 3, outcome.err
    assert "internal error" not in outcome.err
    assert MEMWATCH_SOURCE not in outcome.err, outcome.err  # no frame of memwatch's
    assert 'File "' in outcome.err
    assert "bi_targets.py" in outcome.err
    # the chain is kept: the cause, its frames, then the exception the target raised
    assert "ValueError: invalid literal for int()" in outcome.err
    assert "direct cause of the following exception" in outcome.err
    assert "in _parse" in outcome.err
    assert "in boom_chained" in outcome.err
    assert "RuntimeError: chained boom" in outcome.err
    # one line says which target raised; it comes last, once
    assert outcome.line.startswith("memwatch: error: bi_targets:boom_"), outcome.err
    assert "raised RuntimeError: chained boom" in outcome.line
    assert outcome.err.count("memwatch: error:") == 1, outcome.err


def test_user_traceback_keeps_frames_outside_memwatch() -> None:
    def target() -> None:
        json.loads("{")  # the standard library's frames under the user's stay

    try:
        target()
    except ValueError as exc:
        text = user_traceback(exc)
    assert "in target" in text
    assert "json" in text
    assert "in raw_decode" in text
    assert text.rstrip().splitlines()[-1].startswith("json.decoder.JSONDecodeError")


def test_compare_ab_input_factory_raises(mw: Mw) -> None:
    outcome = mw(
        "compare",
        "bi_targets:ok",
        "bi_targets:ok",
        "--ab",
        "--input",
        "bi_targets:factory_raises",
        "--samples",
        "3",
    )
    outcome.assert_one_line(3, "--input bi_targets:factory_raises", "factory boom")


@pytest.mark.parametrize(
    "argv",
    [
        ["stress", "bi_targets:ok", "-o", f"{LONG}/x.json"],
        ["stress", "bi_targets:ok", "-o", f"{LONG}.json"],
        ["gc", "bi_targets:ok", "-n", "3", "-o", f"{LONG}.json"],
        ["leaks", "bi_targets:ok", "-o", f"{LONG}.json"],
        ["run", "-o", f"{LONG}.json", "--", "true"],
        ["history", "t", "--db", f"{LONG}.db"],
        ["baseline", "show", "--db", f"{LONG}.db"],
        ["plot", f"{LONG}.json"],
        ["report", f"{LONG}.json"],
        ["validate", "--config", f"{LONG}.yaml"],
        ["bench", "--config", f"{LONG}.yaml"],
        ["history", "t", "--plot", f"{LONG}.png"],
    ],
)
def test_over_long_paths(mw: Mw, argv: list[str]) -> None:
    mw(*argv).assert_one_line(2, "x" * 40)


@pytest.mark.parametrize(
    "argv",
    [
        ["history", "t", "--db", ""],
        ["baseline", "show", "--db", " "],
        ["validate", "--db", ""],
        ["gc", "bi_targets:ok", "-o", ""],
        ["validate", "--config", ""],
    ],
)
def test_empty_paths_are_refused_not_defaulted(mw: Mw, argv: list[str]) -> None:
    mw(*argv).assert_one_line(2, "empty value")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_folder(mw: Mw, workdir: Path) -> None:
    folder = workdir / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        mw("stress", "bi_targets:ok", "-o", str(folder / "r.json")).assert_one_line(2, str(folder))
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("bad.json", b"not json", ("corrupt",)),
        ("trunc.json", b'{"kind": "run_result", "schema_version": 1, "samp', ("corrupt",)),
        ("binary.json", b"\x00\xff\xfe\x80" * 20, ("binary.json",)),
        ("future.json", json.dumps({"kind": "run_result", "schema_version": 999}).encode(), ("future.json",)),
        ("foreign.json", json.dumps({"hello": "world"}).encode(), ("foreign.json",)),
        ("ünïcödé.json", b"[]", ("ünïcödé.json",)),
    ],
)
@pytest.mark.parametrize("command", ["report", "plot", "compare"])
def test_bad_input_files(
    mw: Mw, workdir: Path, command: str, name: str, data: bytes, words: tuple[str, ...]
) -> None:
    path = workdir / name
    path.write_bytes(data)
    argv = [command, str(path)] + ([str(path)] if command == "compare" else [])
    mw(*argv).assert_one_line(2, *words)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b'leaks:\n  max_growth: "\xff\xfe"\n', ("not UTF-8",)),
        (b"a: &a [*a]\n", ("nested too deeply",)),
        (b"leaks: " + b"[" * 5000 + b"]" * 5000 + b"\n", ("nested too deeply",)),
        (b"leaks:\n  max_growth: 1e400GB\n", ("too large",)),
        (b"leaks:\x00\n", ("invalid YAML",)),
    ],
)
@pytest.mark.parametrize("command", [["validate"], ["leaks", "bi_targets:ok"], ["gc", "bi_targets:ok"]])
def test_bad_config_files(
    mw: Mw, workdir: Path, command: list[str], data: bytes, words: tuple[str, ...]
) -> None:
    (workdir / "memwatch.yaml").write_bytes(data)
    mw(*command).assert_one_line(2, "memwatch.yaml", *words)


@pytest.fixture
def damaged_db(workdir: Path) -> Path:
    """Two runs of two tests and their baselines, then one results cell and one baseline
    cell damaged with sqlite3 directly (as a disk or a hand edit would)."""
    pytest.importorskip("sqlalchemy")
    from memwatch.store import ResultRow, open_store

    db = workdir / "h.db"
    with open_store(str(db)) as store:
        for i in range(2):
            rows = [ResultRow(t, "peak", "bytes", (1.0 + i, 2.0)) for t in ("t.py::t", "t.py::u")]
            run = store.record_run("pytest", rows, meta={})
        store.set_baselines_from_run(run)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE memwatch_results SET samples = '[1.0, 2' WHERE run_id = 2 AND test_id = 't.py::t'"
        )
        conn.execute("UPDATE memwatch_baselines SET samples = '[\"x\"]' WHERE test_id = 't.py::u'")
    conn.close()
    return db


RESULT_CELL = ("h.db", "corrupt", "run_id 2", "t.py::t", "peak", "DELETE FROM memwatch_results")
BASELINE_CELL = ("h.db", "corrupt", "t.py::u", "peak", "not all numbers", "DELETE FROM memwatch_baselines")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["history", "t.py::t"], RESULT_CELL),
        (["history"], BASELINE_CELL),
        (["history", "diff", "--base", "run:1", "--head", "run:2"], RESULT_CELL),
        (["baseline", "show"], BASELINE_CELL),
        (["baseline", "set", "--from-run", "2"], RESULT_CELL),
        (["dashboard", "-o", "site"], BASELINE_CELL),
    ],
)
def test_corrupt_samples_cell_names_the_row(
    mw: Mw, damaged_db: Path, argv: list[str], words: tuple[str, ...]
) -> None:
    before = damaged_db.read_bytes()
    mw(*argv, "--db", str(damaged_db)).assert_one_line(2, *words)
    if argv[:2] != ["baseline", "set"]:
        assert damaged_db.read_bytes() == before  # a read command left the file as it was


def test_the_statement_in_the_message_removes_the_damaged_rows(mw: Mw, damaged_db: Path) -> None:
    for argv in (["history", "t.py::t"], ["baseline", "show"]):
        line = mw(*argv, "--db", str(damaged_db)).line
        statement = line[line.index("(DELETE ") + 1 : line.index(") or restore")]
        with sqlite3.connect(damaged_db) as conn:
            assert conn.execute(statement).rowcount == 1
        conn.close()
    for argv in (["history", "t.py::t"], ["baseline", "show"], ["history"]):
        outcome = mw(*argv, "--db", str(damaged_db))
        assert outcome.code == 0, outcome.err


def test_check_writable_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="too long"):
        check_writable(tmp_path / f"{LONG}.json")
    with pytest.raises(UsageError, match="does not exist"):
        check_writable(tmp_path / "no" / "x.json")
    check_writable(tmp_path / "fine.json")
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_stale_stress_folders_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / "memwatch-stress-dead"
    dead.mkdir()
    (dead / "spec.json").write_text(json.dumps({"parent": 2**22 + 12345}), encoding="utf-8")
    alive = tmp_path / "memwatch-stress-alive"
    alive.mkdir()
    (alive / "spec.json").write_text(json.dumps({"parent": os.getppid()}), encoding="utf-8")
    young = tmp_path / "memwatch-stress-young"
    young.mkdir()
    old = tmp_path / "memwatch-stress-old"
    old.mkdir()
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    removed = clean_stale_folders(str(tmp_path))
    assert sorted(Path(p).name for p in removed) == ["memwatch-stress-dead", "memwatch-stress-old"]
    assert alive.is_dir()
    assert young.is_dir()
