"""The one child runner: how a child ended, its time limit, its process group, its document."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from memwatch.runs.child import Ending, read_json_lines, run_child, signal_name

PY = sys.executable


def test_exit_code_output_and_peak() -> None:
    code = "import sys; b = bytearray(80 * 2**20); b[::4096] = b'x' * len(b[::4096]); print('out'); print('err', file=sys.stderr); sys.exit(7)"
    run = run_child([PY, "-c", code])
    assert (run.ending.kind, run.ending.exit_code, run.ending.signal) == ("exited", 7, None)
    assert run.ending.describe() == "exited with code 7"
    assert not run.ending.ok
    assert (run.stdout, run.stderr) == ("out\n", "err\n")
    assert run.ending.peak_rss is not None
    assert run.ending.peak_rss > 80 * 2**20  # the kernel's ru_maxrss


def test_killed_by_a_signal_is_named() -> None:
    run = run_child([PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    assert (run.ending.kind, run.ending.signal, run.ending.exit_code) == ("signal", signal.SIGKILL, None)
    assert run.ending.describe() == "killed by SIGKILL"
    assert signal_name(99) == "signal 99"


def test_timeout_sends_sigterm_then_sigkill_to_a_child_that_ignores_it() -> None:
    began = time.monotonic()
    run = run_child([PY, "-c", "import time; time.sleep(60)"], timeout=0.5)
    assert run.ending.kind == "timeout"
    assert run.ending.describe() == "timed out after 0.5 s (stopped with SIGTERM)"
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    run = run_child([PY, "-c", stubborn], timeout=0.5, grace=0.5)
    assert (run.ending.kind, run.ending.signal, run.ending.stopped_with) == (
        "timeout",
        signal.SIGKILL,
        "SIGKILL",
    )
    assert time.monotonic() - began < 30


def test_what_the_child_started_ends_with_it(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys; "
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))"
    )
    run = run_child([PY, "-c", code])
    assert run.ending.ok
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)  # killed; reaped by init
    else:
        pytest.fail("the grandchild outlived its parent's run")


def test_document_whole_and_as_lines(tmp_path: Path) -> None:
    doc = tmp_path / "doc.json"
    run = run_child(
        [PY, "-c", f"import json; json.dump({{'a': [1, 2]}}, open({str(doc)!r}, 'w'))"], document=doc
    )
    assert run.document == {"a": [1, 2]}
    assert run_child([PY, "-c", "pass"], document=tmp_path / "missing.json").document is None
    lines = tmp_path / "events.jsonl"
    lines.write_bytes(json.dumps({"e": 1}).encode() + b"\n" + b"not json\n" + b'{"e": 2}\n{"e": 3, "tor')
    assert read_json_lines(lines) == [{"e": 1}, {"e": 2}]
    run = run_child([PY, "-c", "pass"], document=lines, document_lines=True)
    assert run.document == [{"e": 1}, {"e": 2}]


def test_failed_to_start_is_an_ending_not_an_exception(tmp_path: Path) -> None:
    run = run_child([str(tmp_path / "no-such-program")])
    assert run.ending.kind == "failed-to-start"
    assert run.ending.describe().startswith("failed to start (")
    assert run.pid is None


def test_an_interrupt_stops_the_child_gently_and_other_errors_kill_it() -> None:
    def interrupt() -> None:
        raise KeyboardInterrupt

    code = "import time\ntry:\n    time.sleep(60)\nexcept KeyboardInterrupt:\n    raise SystemExit(3)"
    run = run_child(
        [PY, "-c", code], interrupts=(KeyboardInterrupt,), while_running=interrupt, new_session=False
    )
    assert run.ending.kind == "interrupted"
    assert run.ending.stopped_with == "SIGINT"
    pids: list[int] = []

    def fail() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_child([PY, "-c", "import time; time.sleep(60)"], on_start=pids.append, while_running=fail)
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)  # killed and reaped


def test_ending_phrases() -> None:
    assert Ending("exited", exit_code=0).ok
    assert Ending("signal", signal=int(signal.SIGSEGV)).describe() == "killed by SIGSEGV"
    assert Ending("failed-to-start", error="No such file").describe() == "failed to start (No such file)"
