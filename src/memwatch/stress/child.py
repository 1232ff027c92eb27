"""Run one stress task in a memory-capped child and collect what it reported, even if it was killed.

The child is ``python -m memwatch.stress.worker SPEC`` (see :mod:`memwatch.stress.worker`).
It appends one JSON line per event to a report file as it goes; this side reads
the file after the child is gone, whatever ended it, and drops a torn last line.
A child past its time gets SIGTERM, and SIGKILL after ``grace`` seconds if it is
still there (a child that ignores SIGTERM cannot hang the run). The child leads its
own session; signals go to its whole process group, and whatever it started is
killed when it ends (its own children inherit its cap); the child itself is
SIGKILLed by the kernel if this process dies first (``PR_SET_PDEATHSIG``). The child is
reaped with ``wait4``, whose ``ru_maxrss`` gives its peak RSS even after SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memwatch.model.stress import ChildOutcome
from memwatch.stress.cap import CapMethod, prepare_cap

__all__ = ["ChildRun", "read_events", "run_child"]


@dataclass(frozen=True)
class ChildRun:
    """Everything one child reported (``events``) and how it ended (``outcome``)."""

    events: tuple[dict[str, Any], ...]
    outcome: ChildOutcome

    @property
    def result(self) -> dict[str, Any] | None:
        """The task's result, or None when the child ended before returning one."""
        for event in reversed(self.events):
            if event.get("e") == "result":
                data = event.get("data")
                return data if isinstance(data, dict) else None
        return None

    @property
    def error(self) -> dict[str, Any] | None:
        return next((e for e in reversed(self.events) if e.get("e") == "error"), None)

    def of(self, kind: str) -> list[dict[str, Any]]:
        """The events of one kind (``"sample"``, ``"cycle"``, ...) in order."""
        return [e for e in self.events if e.get("e") == kind]


def read_events(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The complete JSON lines of a report file; a torn or garbled line is skipped."""
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return []
    events = []
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def _reap(proc: subprocess.Popen[bytes], timeout: float, grace: float) -> tuple[int, Any, str | None]:
    """Wait for the child; SIGTERM at ``timeout``, SIGKILL ``grace`` later. (status, rusage, sent)."""
    deadline = time.monotonic() + timeout
    sent: str | None = None
    pause = 0.001
    try:
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                return status, rusage, sent
            now = time.monotonic()
            if now >= deadline:
                if sent is None:
                    _signal_group(proc.pid, signal.SIGTERM)
                    sent, deadline = "SIGTERM", now + grace
                elif sent == "SIGTERM":
                    _signal_group(proc.pid, signal.SIGKILL)
                    sent, deadline = "SIGKILL", now + 60.0
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
    except BaseException:  # KeyboardInterrupt: never leave a child behind
        if proc.returncode is None:
            _signal_group(proc.pid, signal.SIGKILL)
            _pid, status, rusage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        raise
    finally:
        _signal_group(proc.pid, signal.SIGKILL)  # whatever the child started, it ends with it


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    """Signal the child's whole process group (it leads its own session)."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _describe(events: list[dict[str, Any]], status: int, sent: str | None, output: str) -> str:
    error = next((e for e in reversed(events) if e.get("e") == "error"), None)
    if error is not None:
        return f"{error.get('type', 'Error')}: {error.get('message', '')}".rstrip(": ")
    if sent is not None:
        return f"stopped after its time limit ({sent})"
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        last = output.strip().splitlines()[-1:] or ["no output"]
        return f"exited with code {code} without a report ({last[0][:200]})"
    return ""


def run_child(
    task: str,
    *,
    limit: int,
    target: str = "",
    args: tuple[Any, ...] = (),
    params: dict[str, Any] | None = None,
    cap_method: CapMethod = "auto",
    timeout: float = 300.0,
    grace: float = 2.0,
    reserve: int = 4 * 2**20,
    ignore_sigterm: bool = False,
) -> ChildRun:
    """Run ``task`` on ``target`` in a child capped at ``limit`` bytes; never raises for the child's fate.

    ``ignore_sigterm`` is a fault-injection hook for tests: the child is exec'd with
    SIGTERM already ignored (``trap '' TERM; exec ...``), so only SIGKILL can end it,
    from its first instruction on.
    """
    cap = prepare_cap(limit, cap_method)
    with tempfile.TemporaryDirectory(prefix="memwatch-stress-") as tmp:
        report = os.path.join(tmp, "events.jsonl")
        spec = {
            "task": task,
            "target": target,
            "args": list(args),
            "params": params or {},
            "limit": limit,
            "cgroup": cap.cgroup,
            "report": report,
            "reserve": reserve,
            "sys_path": [p for p in sys.path if p],
            "parent": os.getpid(),
        }
        spec_path = os.path.join(tmp, "spec.json")
        Path(spec_path).write_text(json.dumps(spec), encoding="utf-8")
        output_path = os.path.join(tmp, "output.txt")
        started = time.monotonic()
        try:
            with open(output_path, "wb") as output:
                argv = [sys.executable, "-m", "memwatch.stress.worker", spec_path]
                if ignore_sigterm:
                    argv = ["/bin/sh", "-c", 'trap "" TERM; exec "$0" "$@"', *argv]
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        except OSError as exc:
            cap.cleanup()
            return ChildRun(
                (), ChildOutcome("failed-to-start", None, None, 0.0, 0.0, limit, cap.method, error=str(exc))
            )
        try:
            status, rusage, sent = _reap(proc, timeout, grace)
        finally:
            cap.cleanup()
        wall = time.monotonic() - started
        events = read_events(report)
        text = Path(output_path).read_text(encoding="utf-8", errors="replace")
    ready = next((e for e in events if e.get("e") == "ready"), {})
    signaled = os.WIFSIGNALED(status)
    outcome = ChildOutcome(
        exit="timeout" if sent else ("signal" if signaled else "exited"),
        exit_code=None if signaled else os.waitstatus_to_exitcode(status),
        signal=os.WTERMSIG(status) if signaled else None,
        wall_time=wall,
        peak_rss=float(rusage.ru_maxrss) * 1024.0,
        cap=limit,
        cap_method=str(ready.get("cap_method", cap.method)),
        error=_describe(events, status, sent, text),
        events=len(events),
        completed=any(e.get("e") == "result" for e in events),
        stderr_tail=text[-2000:],
        cpu_user=float(rusage.ru_utime),
        cpu_system=float(rusage.ru_stime),
    )
    return ChildRun(tuple(events), outcome)
