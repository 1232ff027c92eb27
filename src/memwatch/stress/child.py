"""Run one stress task in a memory-capped child and collect what it reported, even if it was killed.

The child is ``python -m memwatch.stress.worker SPEC`` (see :mod:`memwatch.stress.worker`),
run by the one child runner (:func:`memwatch.runs.child.run_child`). It appends one JSON
line per event to a report file as it goes; this side reads the file after the child is
gone, whatever ended it, and drops a torn last line. A child past its time gets SIGTERM,
and SIGKILL after ``grace`` seconds if it is still there (a child that ignores SIGTERM
cannot hang the run). The child leads its own session; signals go to its whole process
group, and whatever it started is killed when it ends (its own children inherit its
cap); the child itself is SIGKILLed by the kernel if this process dies first
(``PR_SET_PDEATHSIG``, set by the worker). Its peak RSS is the kernel's ``ru_maxrss``
from ``wait4``, right even after SIGKILL.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memwatch.model.stress import ChildOutcome
from memwatch.runs import child as runner
from memwatch.runs.child import Ending, read_json_lines
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


#: The complete JSON lines of a report file; a torn or garbled line is skipped.
read_events = read_json_lines


def _describe(events: list[dict[str, Any]], ending: Ending, output: str) -> str:
    error = next((e for e in reversed(events) if e.get("e") == "error"), None)
    if error is not None:
        return f"{error.get('type', 'Error')}: {error.get('message', '')}".rstrip(": ")
    if ending.kind == "exited" and ending.exit_code != 0:
        last = output.strip().splitlines()[-1:] or ["no output"]
        return f"{ending.describe()} without a report ({last[0][:200]})"
    if ending.kind in ("exited", "interrupted"):
        return ""
    return ending.describe()


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
        argv = [sys.executable, "-m", "memwatch.stress.worker", spec_path]
        if ignore_sigterm:
            argv = ["/bin/sh", "-c", 'trap "" TERM; exec "$0" "$@"', *argv]
        try:
            run = runner.run_child(
                argv, timeout=timeout, grace=grace, capture="merged", document=report, document_lines=True
            )
        finally:
            cap.cleanup()
    ending = run.ending
    if ending.kind == "failed-to-start":
        return ChildRun(
            (), ChildOutcome("failed-to-start", None, None, 0.0, 0.0, limit, cap.method, error=ending.error)
        )
    events: list[dict[str, Any]] = run.document
    text = run.stdout
    ready = next((e for e in events if e.get("e") == "ready"), {})
    outcome = ChildOutcome(
        exit="timeout" if ending.kind == "timeout" else ("signal" if ending.signal is not None else "exited"),
        exit_code=ending.exit_code,
        signal=ending.signal,
        wall_time=ending.wall,
        peak_rss=ending.peak_rss or 0.0,
        cap=limit,
        cap_method=str(ready.get("cap_method", cap.method)),
        error=_describe(events, ending, text),
        events=len(events),
        completed=any(e.get("e") == "result" for e in events),
        stderr_tail=text[-2000:],
        cpu_user=ending.cpu_user,
        cpu_system=ending.cpu_system,
    )
    return ChildRun(tuple(events), outcome)
