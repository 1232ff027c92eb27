"""Preserver: what can be preserved, the checksum sidecar protocol, errors, temp files."""

from __future__ import annotations

import array
import hashlib
import json
import os
from pathlib import Path

import pytest

from memwatch.errors import UsageError
from memwatch.guard.preserve import Preserver, read_preserved, verify


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (b"raw", b"raw"),
        (bytearray(b"grown"), b"grown"),
        (memoryview(array.array("H", [1, 2])), array.array("H", [1, 2]).tobytes()),
        ("text é", "text é".encode()),
        ({"b": 1, "a": [1, 2]}, json.dumps({"a": [1, 2], "b": 1}).encode()),
        (lambda: "from a callable", b"from a callable"),
    ],
)
def test_what_can_be_preserved(tmp_path: Path, obj: object, expected: bytes) -> None:
    preserver = Preserver(reserve=0)
    preserver.add(obj, tmp_path / "out")
    [written] = preserver.flush()
    assert written.error == ""
    assert written.size == len(expected)
    assert written.sha256 == sha(expected)
    assert (tmp_path / "out").read_bytes() == expected
    assert (tmp_path / "out.sha256").read_text() == f"{sha(expected)}  out\n"
    preserver.close()


def test_a_failing_object_does_not_stop_the_others(tmp_path: Path) -> None:
    def broken() -> bytes:
        raise RuntimeError("cannot render")

    errors: list[str] = []
    preserver = Preserver(reserve=0)
    preserver.add(broken, tmp_path / "a")
    preserver.add(b"fine", tmp_path / "b")
    first, second = preserver.flush(lambda path, exc: errors.append(f"{Path(path).name}: {exc}"))
    assert first.error == "RuntimeError: cannot render"
    assert second.error == ""
    assert errors == ["a: cannot render"]
    assert not (tmp_path / "a").exists()
    assert read_preserved(tmp_path / "b") == b"fine"
    preserver.close()


def test_each_flush_replaces_the_file_and_the_sidecar_accepts_only_the_new(tmp_path: Path) -> None:
    state = bytearray(b"v1")
    preserver = Preserver(reserve=0)
    preserver.add(state, tmp_path / "s")
    preserver.flush()
    state[:] = b"v2"
    preserver.flush()
    assert (tmp_path / "s").read_bytes() == b"v2"
    assert (tmp_path / "s.sha256").read_text().split() == [sha(b"v2"), "s"]
    preserver.close()


def test_verify_accepts_either_version_listed_during_the_switch(tmp_path: Path) -> None:
    target = tmp_path / "s"
    target.write_bytes(b"old")
    # the sidecar as it stands between the two renames of a flush
    (tmp_path / "s.sha256").write_text(f"{sha(b'new')}  s\n{sha(b'old')}  s\n")
    assert verify(target)
    target.write_bytes(b"new")
    assert verify(target)
    target.write_bytes(b"ne")
    assert not verify(target)


def test_a_new_preserver_keeps_the_previous_checksum(tmp_path: Path) -> None:
    first = Preserver(reserve=0)
    first.add(b"before restart", tmp_path / "s")
    first.flush(reopen=False)
    first.close()
    second = Preserver(reserve=0)
    second.add(b"after restart", tmp_path / "s")
    [target] = second._targets
    assert target.previous == sha(b"before restart")
    second.close()


def test_temp_files_are_opened_ahead_and_cleaned(tmp_path: Path) -> None:
    preserver = Preserver(reserve=0)
    preserver.add(b"x", tmp_path / "s")
    ahead = sorted(p.name for p in tmp_path.iterdir())
    assert len(ahead) == 2  # data and sidecar temp files, ready before any emergency
    assert all(name.startswith(f".s.memwatch-{os.getpid()}-") for name in ahead)
    preserver.flush(reopen=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s", "s.sha256"]
    preserver.close()


def test_stale_temp_files_of_dead_processes_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".s.memwatch-999999999-3.tmp"
    stale.write_bytes(b"half")
    mine = tmp_path / f".s.memwatch-{os.getpid()}-99.tmp"
    mine.write_bytes(b"live")
    preserver = Preserver(reserve=0)
    preserver.add(b"x", tmp_path / "s")
    assert not stale.exists()
    assert mine.exists()  # a live process's file is left alone
    preserver.close()


def test_bad_paths_are_usage_errors(tmp_path: Path) -> None:
    preserver = Preserver(reserve=0)
    with pytest.raises(UsageError, match="does not exist"):
        preserver.add(b"x", tmp_path / "missing" / "s")
    preserver.add(b"x", tmp_path / "s")
    with pytest.raises(UsageError, match="already preserved"):
        preserver.add(b"y", tmp_path / "s")
    preserver.close()


def test_no_reserve_without_targets_and_reserve_held_once(tmp_path: Path) -> None:
    preserver = Preserver(reserve=1 << 20)
    preserver.hold_reserve()
    assert preserver.reserved == 0
    preserver.add(b"x", tmp_path / "s")
    assert preserver.reserved == 1 << 20
    assert preserver.release_reserve() == 1 << 20
    assert preserver.release_reserve() == 0
    preserver.close()


def test_a_bytearray_can_grow_while_it_is_being_flushed(tmp_path: Path) -> None:
    import threading

    buffer = bytearray(b"x" * (8 << 20))
    preserver = Preserver(reserve=0)
    preserver.add(buffer, tmp_path / "s")
    errors: list[BaseException] = []
    done = threading.Event()

    def grow() -> None:
        try:
            while not done.is_set():
                buffer.extend(b"y" * 1024)
                del buffer[-1024:]
        except BaseException as exc:
            errors.append(exc)

    writer = threading.Thread(target=grow)
    writer.start()
    try:
        for _ in range(5):
            preserver.flush()
    finally:
        done.set()
        writer.join()
    assert errors == []
    assert verify(tmp_path / "s")
    preserver.close()
