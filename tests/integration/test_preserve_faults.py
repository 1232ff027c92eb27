"""Fault injection for ``preserve``: the writer is SIGKILLed before every write, fsync
and rename of a flush, restarted, and SIGKILLed again before every step of the next
flush. After each kill the file on disk must be the newest version whose switch
(the data file's rename) happened, complete, and accepted by :func:`verify`; a torn
or half-switched state must never be accepted.

The writer runs in a forked child (fast: no interpreter start) whose ``os.write``,
``os.fsync`` and ``os.replace`` count the steps and SIGKILL the child at step N.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from memwatch.guard.preserve import Preserver, read_preserved, verify

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs fork and SIGKILL"),
]

HOOKED = ("write", "fsync", "replace")


def content(version: int) -> bytes:
    # big enough to be more than one page, distinct per version
    return f"version {version}\n".encode() + bytes([version]) * 20_000


def install_hooks(kill_at: int | None, log: list[tuple[str, str]]) -> None:
    """Count every os.write/os.fsync/os.replace; SIGKILL this process before step ``kill_at``."""
    for name in HOOKED:
        real = getattr(os, name)

        def hooked(*args: object, _real: Callable[..., object] = real, _name: str = name) -> object:
            if kill_at is not None and len(log) == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            detail = os.path.basename(os.fspath(args[1])) if _name == "replace" else ""  # type: ignore[call-overload]
            log.append((_name, detail))
            return _real(*args)

        setattr(os, name, hooked)


def write_version(path: Path, version: int) -> None:
    preserver = Preserver(reserve=0)
    preserver.add(content(version), path)
    [done] = preserver.flush(reopen=False)
    assert not done.error, done.error
    preserver.close()


def run_child(path: Path, version: int, kill_at: int | None) -> bool:
    """Write ``version`` in a forked child killed before step ``kill_at``; True when it was killed."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            install_hooks(kill_at, [])
            write_version(path, version)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return True
    assert os.WEXITSTATUS(status) == 0, "the writer failed without being killed"
    return False


def flush_steps(tmp_path: Path) -> list[tuple[str, str]]:
    """The steps of one flush over an existing version (recorded in a child)."""
    folder = tmp_path / "dry"
    folder.mkdir()
    write_version(folder / "s", 1)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        log: list[tuple[str, str]] = []
        try:
            install_hooks(None, log)
            write_version(folder / "s", 2)
            os.close(read_end)
            with open(write_end, "w") as out:
                out.write("\n".join(f"{name} {detail}" for name, detail in log))
        finally:
            os._exit(0)
    os.close(write_end)
    with open(read_end) as received:
        text = received.read()
    os.waitpid(pid, 0)
    return [(line.split(" ")[0], line.split(" ", 1)[1]) for line in text.splitlines()]


def assert_state(path: Path, expected_version: int) -> None:
    data = path.read_bytes()
    assert data == content(expected_version), (
        f"the file on disk is {data[:12]!r}..., expected version {expected_version} complete"
    )
    assert verify(path), f"the newest complete version ({expected_version}) is rejected"
    assert read_preserved(path) == content(expected_version)


def test_the_steps_of_a_flush_are_the_write_protocol(tmp_path: Path) -> None:
    steps = flush_steps(tmp_path)
    names = [name for name, _ in steps]
    # data written + fsynced, sidecar (old+new) written + fsynced, renamed, folder fsynced,
    # data renamed (the switch), then the sidecar narrowed to the new version
    assert names.count("replace") == 3
    assert ("replace", "s") in steps
    assert steps.index(("replace", "s.sha256")) < steps.index(("replace", "s"))
    assert names.count("fsync") >= 5
    assert len(steps) >= 10


def test_two_kills_at_every_step_never_lose_the_newest_complete_version(tmp_path: Path) -> None:
    steps = flush_steps(tmp_path)
    switch = steps.index(("replace", "s"))
    last = len(steps)  # kill_at == last: the flush completes
    combos = 0
    for first in range(last + 1):
        for second in range(last + 1):
            folder = tmp_path / f"k{first}-{second}"
            folder.mkdir()
            target = folder / "s"
            write_version(target, 1)
            newest = 1
            if run_child(target, 2, first if first < last else None) is False or first > switch:
                newest = 2
            assert_state(target, newest)
            if run_child(target, 3, second if second < last else None) is False or second > switch:
                newest = 3
            assert_state(target, newest)
            # a third writer, never killed, cleans the dead writers' temp files and switches
            write_version(target, 4)
            assert_state(target, 4)
            assert sorted(p.name for p in folder.iterdir()) == ["s", "s.sha256"]
            combos += 1
    assert combos == (last + 1) ** 2


def test_a_file_the_sidecar_does_not_accept_is_never_made_acceptable(tmp_path: Path) -> None:
    target = tmp_path / "s"
    write_version(target, 1)
    target.write_bytes(b"torn")  # damaged after the fact
    steps = flush_steps(tmp_path)
    switch = steps.index(("replace", "s"))
    for kill_at in range(switch + 1):  # every kill before the switch
        run_child(target, 2, kill_at)
        assert target.read_bytes() == b"torn"
        assert not verify(target)
    write_version(target, 3)
    assert_state(target, 3)


def test_files_honour_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_version(tmp_path / "s", 1)
    finally:
        os.umask(old)
    assert (tmp_path / "s").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "s.sha256").stat().st_mode & 0o777 == 0o640
    assert hashlib.sha256((tmp_path / "s").read_bytes()).hexdigest() in (tmp_path / "s.sha256").read_text()
