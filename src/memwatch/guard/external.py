"""Guarding a command from outside (``memwatch guard -- COMMAND``), for services that cannot import memwatch.

The command runs in its own session and process group; a :class:`~memwatch.guard.core.MemoryGuard`
in this process watches it with the usual levels (thresholds, hysteresis, cooldown). What is
measured (:class:`TreeSource`):

- inside a memory cgroup with a limit (a container): the group's working set against that
  limit, which is what the kernel's OOM killer judges;
- otherwise: the RSS of the command and all its descendants, against ``--budget`` (or the
  host's memory when no budget is given).

What happens on entering each level (:class:`GuardActions`):

- warning: one log line (usage, budget, share);
- critical: a log line, and ``signal`` (e.g. SIGUSR1: "drop your caches") to the process group
  when one is given;
- emergency: a log line, the ``preserve_hook`` shell command (given ``MEMWATCH_GUARD_PID``,
  ``MEMWATCH_GUARD_LEVEL``, ``MEMWATCH_GUARD_USAGE``, ``MEMWATCH_GUARD_BUDGET`` in its
  environment, at most ``hook_timeout`` seconds), then SIGTERM to the group, SIGKILL after
  ``grace`` seconds (unless ``kill`` is off).

SIGINT, SIGTERM and SIGHUP sent to the guard are passed on to the group. The child is started
here with ``subprocess.Popen(start_new_session=True)`` (:func:`start_group`), in one small
function so it can move onto a shared child-process runner.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from memwatch.errors import ConfigError
from memwatch.guard.core import EXIT_EMERGENCY, MemoryGuard
from memwatch.guard.levels import Level, LevelPolicy
from memwatch.guard.source import SystemSource
from memwatch.model.guard import GuardSample
from memwatch.probes import process
from memwatch.probes.cgroup import CgroupReader
from memwatch.units import format_size, parse_size

__all__ = ["GuardActions", "GuardedRun", "TreeSource", "guard_command", "parse_signal", "start_group"]

_log = logging.getLogger("memwatch.guard")
TREE_MODES = ("auto", "tree", "cgroup")


def parse_signal(text: str | int) -> int:
    """``"USR1"``, ``"SIGUSR1"``, ``"10"`` -> the signal number; anything else is a ConfigError."""
    raw = str(text).strip()
    if raw.isdigit():
        number = int(raw)
        if number in {int(s) for s in signal.valid_signals()} and number > 0:
            return number
    else:
        name = raw.upper() if raw.upper().startswith("SIG") else "SIG" + raw.upper()
        value = getattr(signal, name, None)
        if isinstance(value, signal.Signals):
            return int(value)
    raise ConfigError(f"unknown signal {text!r}; use a name such as USR1 or TERM, or a number")


@dataclass(frozen=True)
class GuardActions:
    """What the guard does on entering critical and emergency (see the module docstring)."""

    signal: int | None = None
    preserve_hook: str | None = None
    hook_timeout: float = 30.0
    kill: bool = True
    grace: float = 5.0


@dataclass
class GuardedRun:
    """How a guarded command ended: its exit status, and what the guard saw and did."""

    returncode: int
    killed: bool = False
    peak: int = 0
    budget: int = 0
    budget_source: str = ""
    usage_source: str = ""
    levels: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """The command's own code; 128+N when a signal ended it; 75 when the guard killed it."""
        if self.killed:
            return EXIT_EMERGENCY
        return 128 - self.returncode if self.returncode < 0 else self.returncode


class TreeSource:
    """The guard's reading of a process group: cgroup working set, or the tree's RSS."""

    def __init__(
        self,
        pid: int,
        *,
        budget: int | str | None = None,
        usage: str = "auto",
        reader: CgroupReader | None = None,
        tree: Callable[[int], tuple[int, int]] = process.tree_rss,
    ) -> None:
        if usage not in TREE_MODES:
            raise ConfigError(f"unknown usage {usage!r}; use one of {', '.join(TREE_MODES)}")
        self.pid = pid
        self._tree = tree
        inner_usage = "cgroup" if usage == "cgroup" else ("rss" if usage == "tree" else "auto")
        self._system = SystemSource(budget=budget, usage=inner_usage, reader=reader, psi=False, gpu=False)
        self.container = self._system.usage_source.startswith("cgroup")
        self.processes = 0
        self.budget_source = self._system.budget_source
        self.budget_detail = self._system.budget_detail
        self.usage_source = (
            self._system.usage_source if self.container else "rss of the command's process tree"
        )

    def read(self) -> GuardSample:
        sample = self._system.read()
        self.budget_source = self._system.budget_source
        self.budget_detail = self._system.budget_detail
        if self.container:
            return sample
        usage, self.processes = self._tree(self.pid)
        return dataclasses.replace(sample, usage=usage, usage_source=self.usage_source)

    def close(self) -> None:
        self._system.close()


def start_group(argv: Sequence[str]) -> subprocess.Popen[bytes]:
    """Start ``argv`` as the leader of a new session (so of a new process group)."""
    try:
        return subprocess.Popen(list(argv), start_new_session=True)
    except FileNotFoundError:
        raise ConfigError(f"command not found: {argv[0]!r}") from None
    except PermissionError:
        raise ConfigError(f"cannot run {argv[0]!r}: permission denied") from None


def _killpg(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return False


class _Responder:
    """The level handler: log, signal, preserve hook, kill (runs inside ``guard.check()``)."""

    def __init__(
        self, proc: subprocess.Popen[bytes], actions: GuardActions, log: Callable[[str], None]
    ) -> None:
        self.proc = proc
        self.actions = actions
        self.log = log
        self.run = GuardedRun(returncode=0)

    def __call__(self, level: str, details: dict[str, Any]) -> None:
        pgid = self.proc.pid
        share = (
            f"{format_size(details['usage'])} of {format_size(details['budget'])} ({details['percent']:.0f}%)"
        )
        self.run.levels.append(level)
        self.log(f"memwatch guard: {details['previous']} -> {level}: {details['reason']}")
        sig = self.actions.signal
        if level == Level.CRITICAL and sig is not None and _killpg(pgid, sig):
            name = signal.Signals(sig).name
            self.run.actions.append(f"signal {name}")
            self.log(f"memwatch guard: sent {name} to process group {pgid}")
        if level != Level.EMERGENCY:
            return
        if self.actions.preserve_hook:
            self._hook(level, details)
        if self.actions.kill:
            self._kill(pgid, share)

    def _hook(self, level: str, details: dict[str, Any]) -> None:
        env = dict(os.environ)
        env.update(
            MEMWATCH_GUARD_PID=str(self.proc.pid),
            MEMWATCH_GUARD_LEVEL=level,
            MEMWATCH_GUARD_USAGE=str(details["usage"]),
            MEMWATCH_GUARD_BUDGET=str(details["budget"]),
        )
        hook = self.actions.preserve_hook or ""
        try:
            done = subprocess.run(hook, shell=True, env=env, timeout=self.actions.hook_timeout, check=False)
            outcome = f"exit {done.returncode}"
        except subprocess.TimeoutExpired:
            outcome = f"stopped after {self.actions.hook_timeout:g} s"
        self.run.actions.append(f"preserve hook ({outcome})")
        self.log(f"memwatch guard: preserve hook {hook!r}: {outcome}")

    def _kill(self, pgid: int, share: str) -> None:
        if not _killpg(pgid, signal.SIGTERM):
            return
        self.run.killed = True
        self.run.actions.append("SIGTERM to the process group")
        try:
            self.proc.wait(self.actions.grace)
        except subprocess.TimeoutExpired:
            _killpg(pgid, signal.SIGKILL)
            self.run.actions.append("SIGKILL to the process group")
            self.proc.wait()
        self.log(f"memwatch guard: emergency: killed process group {pgid} at {share}")


def guard_command(
    argv: Sequence[str],
    *,
    budget: int | str | None = None,
    warning: float | int | str = 0.70,
    critical: float | int | str = 0.85,
    emergency: float | int | str = 0.95,
    interval: float = 0.5,
    cooldown: float = 5.0,
    usage: str = "auto",
    actions: GuardActions | None = None,
    log: Callable[[str], None] | None = None,
    source_factory: Callable[[int], Any] | None = None,
) -> GuardedRun:
    """Run ``argv`` under a guard until it exits (or the guard kills it at emergency)."""
    if not argv:
        raise ConfigError("no command given: memwatch guard [OPTIONS] -- COMMAND [ARGS]...")
    if interval <= 0:
        raise ConfigError(f"interval must be positive, got {interval!r}")
    actions = actions or GuardActions()
    if budget is not None:
        budget = parse_size(budget)  # refuse bad input before anything runs
    LevelPolicy(warning, critical, emergency)
    say = log or (lambda line: print(line, file=sys.stderr, flush=True))
    proc = start_group(argv)
    responder = _Responder(proc, actions, say)
    previous: dict[int, Any] = {}
    try:
        source = (
            source_factory(proc.pid)
            if source_factory is not None
            else TreeSource(proc.pid, budget=budget, usage=usage)
        )
        guard = MemoryGuard(
            warning, critical, emergency, interval, cooldown, source, psi_trigger=False, reserve=0
        )
    except BaseException:
        _killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    guard.add_handler(responder)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, lambda num, _frame: _killpg(proc.pid, num))
    try:
        while proc.poll() is None:
            guard.check()
            if responder.run.killed:
                break
            try:
                proc.wait(interval)
            except subprocess.TimeoutExpired:
                pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if proc.poll() is None:  # an exception in the loop: leave nothing behind
            _killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        guard.close()
    run = responder.run
    run.returncode = proc.returncode if proc.returncode is not None else -signal.SIGKILL
    run.peak, run.budget = guard.peak, guard.last_sample.budget if guard.last_sample else 0
    run.budget_source, run.usage_source = source.budget_source, source.usage_source
    return run
