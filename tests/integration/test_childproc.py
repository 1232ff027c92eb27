"""memwatch run's engine against real child processes: phases, crashes, signals, Ctrl-C."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from memwatch.errors import ConfigError, UsageError
from memwatch.probes.process import peak_rss
from memwatch.runs.command import run_command

pytestmark = pytest.mark.integration
MIB = 2**20
PY = sys.executable

PHASED = textwrap.dedent("""
    import time
    from memwatch.runs.command import phase
    with phase("load"):
        data = b"\\x01" * (150 * 2**20)
        time.sleep(0.1)
    with phase("release"):
        del data
        time.sleep(0.1)
""")


def test_phases_marked_inside_the_child() -> None:
    run = run_command([PY, "-c", PHASED], interval=0.01)
    assert (run.exit, run.exit_code, run.signal) == ("exited", 0, None)
    load, release = run.phase_stats
    assert (load.name, release.name) == ("load", "release")
    assert load.peak_memory - load.start_memory > 120 * MIB
    assert release.delta_memory < -100 * MIB
    assert run.peak > 150 * MIB
    assert load.duration >= 0.09  # stamped by the child with its own clock
    assert run.command == (PY, "-c", PHASED)


def test_a_crashing_child_keeps_its_samples_and_exit_code() -> None:
    code = "import sys, time; b = b'x' * (120 * 2**20); time.sleep(0.2); sys.exit(3)"
    run = run_command([PY, "-c", code], interval=0.01)
    assert (run.exit, run.exit_code) == ("exited", 3)
    assert len(run.timeline) >= 5
    assert run.peak > 110 * MIB


def test_a_killed_child_is_reported_with_its_signal() -> None:
    code = "import os, signal, time; b = b'x' * (100 * 2**20); time.sleep(0.1); os.kill(os.getpid(), 9)"
    run = run_command([PY, "-c", code], interval=0.01)
    assert (run.exit, run.exit_code, run.signal) == ("signal", None, signal.SIGKILL)
    assert run.peak > 100 * MIB


def test_the_kernel_peak_catches_a_spike_between_samples() -> None:
    # The child's ru_maxrss starts from this process's own peak (the memory it had before its
    # exec), so only a spike above that peak can be the command's.
    own_peak = peak_rss().require()
    size = int(max(200 * MIB, own_peak + 100 * MIB))
    code = f"b = b'x' * {size}; del b"  # lives a few ms only
    run = run_command([PY, "-c", code], interval=1.0)
    assert run.peak > size - 10 * MIB
    assert run.peak_source.startswith("ru_maxrss")


def test_the_kernel_peak_is_not_memwatchs_own_memory() -> None:
    ballast = bytearray(300 * MIB)  # this process's peak is now above 300 MiB
    ballast[::4096] = b"x" * len(range(0, len(ballast), 4096))
    run = run_command(["true"], interval=1.0)
    del ballast
    # `true` ends before its first sample: no figure rather than this process's peak.
    assert math.isnan(run.peak) or run.peak < 50 * MIB
    assert not run.peak_source.startswith("ru_maxrss")


def test_growth_is_measured_from_the_commands_first_sample() -> None:
    # The command holds 100 MiB until it ends (os._exit: no teardown frees it first).
    code = "import os, time; time.sleep(0.3); b = b'x' * (100 * 2**20); time.sleep(0.4); os._exit(0)"
    run = run_command([PY, "-c", code], interval=0.01)
    assert run.exit_code == 0
    # the first sample is Python started, not the program caught mid-exec (a few KiB)
    assert run.start_memory > 1 * MIB
    assert run.start_memory == run.timeline.signal("rss")[0]
    assert 80 * MIB < run.growth < 130 * MIB
    assert run.end_memory - run.start_memory == run.growth
    assert run.duration >= 0.7  # the command's own time, not the span of its samples


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no-such-command-memwatch"], "command not found: no-such-command-memwatch"),
        (["./no/such/file"], "command not found: ./no/such/file"),
        ([], "no command to run"),
    ],
)
def test_a_command_that_cannot_run_is_a_usage_error(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        run_command(argv)


def test_a_folder_or_a_non_executable_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not an executable file"):
        run_command([str(tmp_path)])
    script = tmp_path / "plain.txt"
    script.write_text("hello")
    with pytest.raises(UsageError, match="not an executable file"):
        run_command([str(script)])


def test_signals_are_checked_before_the_command_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(ConfigError, match="probe 'py_blocks' cannot be read from another process"):
        run_command([PY, "-c", f"open({str(marker)!r}, 'w')"], signals=["py_blocks"])
    assert not marker.exists()


def test_ctrl_c_stops_the_child_and_saves_what_was_sampled(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    child = "import time; b = b'x' * (80 * 2**20); print('ready', flush=True); time.sleep(60)"
    proc = subprocess.Popen(
        [PY, "-m", "memwatch.cli", "run", "-o", str(out), "--", PY, "-c", child],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    doc = json.loads(out.read_text())
    assert doc["data"]["exit"] == "interrupted"
    assert doc["data"]["peak"] > 80 * MIB
    assert "saved" in err


def _run_script(tmp_path: Path, child: str, grace: float) -> subprocess.Popen[str]:
    script = tmp_path / "runner.py"
    script.write_text(
        textwrap.dedent(f"""
        import json, sys
        from memwatch.runs.command import run_command
        run = run_command([sys.executable, "-c", {child!r}], interval=0.01, grace={grace})
        print(json.dumps({{"exit": run.exit, "code": run.exit_code, "signal": run.signal,
                          "samples": len(run.timeline)}}), flush=True)
    """)
    )
    return subprocess.Popen([PY, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_child(proc: subprocess.Popen[str]) -> None:
    import psutil

    deadline = time.monotonic() + 10
    while not psutil.Process(proc.pid).children() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # let the child install its handlers and be sampled


def test_sigterm_to_memwatch_stops_the_child_and_keeps_the_run(tmp_path: Path) -> None:
    proc = _run_script(tmp_path, "import time; time.sleep(60)", grace=3.0)
    try:
        _wait_for_child(proc)
        proc.send_signal(signal.SIGTERM)  # to memwatch only: it passes SIGINT on to the child
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
        proc.wait()
    result = json.loads(out)
    assert result["exit"] == "interrupted", err
    # Python dies of an unhandled KeyboardInterrupt by re-raising SIGINT on itself
    assert (result["code"], result["signal"]) == (None, signal.SIGINT)
    assert result["samples"] >= 5


def test_a_child_that_ignores_ctrl_c_is_terminated_after_the_grace(tmp_path: Path) -> None:
    child = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(60)"
    proc = _run_script(tmp_path, child, grace=0.3)
    try:
        _wait_for_child(proc)
        began = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
        proc.wait()
    result = json.loads(out)
    assert (result["exit"], result["signal"]) == ("interrupted", signal.SIGTERM), err
    assert time.monotonic() - began < 10
