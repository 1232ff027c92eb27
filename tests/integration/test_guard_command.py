"""``memwatch guard -- COMMAND``: a real child under the external guard (tree RSS against --budget)."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
from pathlib import Path

import pytest

from memwatch.cli import main
from memwatch.errors import ConfigError
from memwatch.guard.external import GuardActions, TreeSource, guard_command, parse_signal

pytestmark = pytest.mark.integration

# Grows by 20 MB every 50 ms up to 400 MB; on SIGUSR1 it drops everything and records the fact.
GROWER = textwrap.dedent(
    """
    import os, signal, sys, time
    blocks = []
    def drop(num, frame):
        blocks.clear()
        open(sys.argv[1], "w").write("dropped")
    signal.signal(signal.SIGUSR1, drop)
    for _ in range(20):
        blocks.append(bytearray(os.urandom(1)) * 20_000_000)
        time.sleep(0.05)
    time.sleep(0.5)
    """
)


def _py(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


def test_a_command_that_stays_small_keeps_its_exit_code() -> None:
    lines: list[str] = []
    run = guard_command(_py("import sys; sys.exit(3)"), budget="1GiB", interval=0.05, log=lines.append)
    assert run.exit_code == 3
    assert not run.killed
    assert run.levels == []
    assert run.budget == 2**30
    assert run.budget_source == "configured"
    assert run.usage_source == "rss of the command's process tree"


def test_emergency_runs_the_preserve_hook_then_kills_the_group(tmp_path: Path) -> None:
    saved = tmp_path / "saved.txt"
    hook = f'echo "$MEMWATCH_GUARD_LEVEL $MEMWATCH_GUARD_PID $MEMWATCH_GUARD_BUDGET" > {saved}'
    lines: list[str] = []
    run = guard_command(
        _py(GROWER, str(tmp_path / "unused")),
        budget="150MB",
        interval=0.05,
        actions=GuardActions(preserve_hook=hook, grace=2.0),
        log=lines.append,
    )
    assert run.killed
    assert run.exit_code == 75
    assert run.levels[-1] == "emergency"
    assert run.peak >= 0.95 * 150e6
    level, pid, budget = saved.read_text().split()
    assert level == "emergency"
    assert int(budget) == 150_000_000
    assert int(pid) > 0
    assert run.actions[0] == "preserve hook (exit 0)"
    assert "SIGTERM to the process group" in run.actions
    assert any("killed process group" in line for line in lines)


def test_critical_sends_the_signal_and_the_command_recovers(tmp_path: Path) -> None:
    marker = tmp_path / "dropped"
    run = guard_command(
        _py(GROWER, str(marker)),
        budget="1GB",
        warning="100MB",
        critical="200MB",
        emergency="900MB",
        interval=0.05,
        actions=GuardActions(signal=signal.SIGUSR1),
        log=lambda _line: None,
    )
    assert marker.read_text() == "dropped"
    assert "critical" in run.levels
    assert "signal SIGUSR1" in run.actions
    assert not run.killed
    assert run.exit_code == 0
    assert run.peak < 900e6


def test_the_tree_counts_grandchildren(tmp_path: Path) -> None:
    inner = "import time; b = bytearray(os.urandom(1)) * 120_000_000; time.sleep(1.5)".replace(
        "os.", "__import__('os')."
    )
    outer = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {inner!r}])"
    run = guard_command(_py(outer), budget="1GB", interval=0.05, log=lambda _l: None)
    assert run.exit_code == 0
    assert run.peak >= 120e6  # the grandchild's 120 MB, not only the small parent


def test_tree_source_with_a_fake_tree_and_a_configured_budget() -> None:
    source = TreeSource(os.getpid(), budget="1000B", tree=lambda pid: (750, 3))
    sample = source.read()
    assert (sample.usage, sample.budget, sample.fraction) == (750, 1000, 0.75)
    assert source.processes == 3
    source.close()


def test_signals_by_name_or_number() -> None:
    assert parse_signal("USR1") == signal.SIGUSR1
    assert parse_signal("sigterm") == signal.SIGTERM
    assert parse_signal("9") == signal.SIGKILL
    with pytest.raises(ConfigError, match="unknown signal"):
        parse_signal("NOPE")


def test_cli_runs_the_command_and_reports(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["guard", "--budget", "1GiB", "--interval", "50ms", "--", sys.executable, "-c", "print('hi')"]
    )
    err = capsys.readouterr().err
    assert code == 0
    assert "memwatch guard: peak" in err
    assert "exit 0" in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--signal", "NOPE", "--", "true"], "unknown signal"),
        (["--warning", "1.5", "--", "true"], "--warning"),
        (["--", "/no/such/command"], "command not found"),
        (["--budget", "lots", "--", "true"], "lots"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["guard", *args]) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err
