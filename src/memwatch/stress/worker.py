"""The stress child: ``python -m memwatch.stress.worker SPEC.json``.

It caps itself first (cgroup or RLIMIT_DATA, see :mod:`memwatch.stress.cap`),
touches a small reserve, then runs one task (:mod:`memwatch.stress.tasks`) on the
user's ``module:callable``. Everything it learns is appended to the report file as
one JSON object per line, written with a single ``write(2)`` each, so a child that
is killed still leaves every event it finished writing (a torn last line is
ignored by the reader). On ``MemoryError`` the reserve is released first, so the
error report itself has room.

Exit codes: 0 done, 10 MemoryError, 11 the user's code raised, 12 bad target or
spec, 13 a task failed its own way (for example a GPU out-of-memory).
"""

from __future__ import annotations

import gc
import json
import math
import os
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any

__all__ = [
    "EXIT_BAD_TARGET",
    "EXIT_MEMORY",
    "EXIT_RAISED",
    "Reporter",
    "die_with_parent",
    "main",
    "resolve_target",
]

EXIT_MEMORY = 10
EXIT_RAISED = 11
EXIT_BAD_TARGET = 12
EXIT_TASK = 13


class BadTarget(Exception):
    """The target cannot be imported or is not callable."""


class Reporter:
    """Appends one JSON line per event to the report file (O_APPEND, one write each)."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.reserve: bytearray | None = None

    def emit(self, event: str, **fields: Any) -> None:
        fields["e"] = event
        try:
            line = json.dumps(_clean(fields), separators=(",", ":")) + "\n"
        except MemoryError:
            self.release_reserve()
            line = json.dumps(_clean(fields), separators=(",", ":")) + "\n"
        os.write(self.fd, line.encode())

    def release_reserve(self) -> None:
        self.reserve = None
        gc.collect()


def _clean(value: Any) -> Any:
    """JSON has no NaN/inf: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def resolve_target(target: str) -> Callable[..., Any]:
    """Import ``module:callable`` (dotted attributes allowed); BadTarget says why not."""
    from memwatch.config.target import resolve_target as resolve
    from memwatch.errors import UsageError

    try:
        return resolve(target, from_cwd=False)
    except UsageError as exc:
        raise BadTarget(str(exc)) from None


def die_with_parent(parent: int | None) -> None:
    """Have the kernel SIGKILL this child when the memwatch process that started it dies
    (Linux ``prctl(PR_SET_PDEATHSIG)``), so a parent killed by SIGTERM/SIGKILL leaves no
    orphan holding memory; exit at once if the parent is already gone."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if parent is not None and os.getppid() != parent:
        os._exit(EXIT_TASK)


def main(argv: list[str]) -> int:
    with open(argv[0], encoding="utf-8") as handle:
        spec = json.load(handle)
    die_with_parent(spec.get("parent"))
    reporter = Reporter(spec["report"])
    from memwatch.stress.cap import apply_cap_in_child

    method = apply_cap_in_child(int(spec["limit"]), spec.get("cgroup", ""))
    for entry in reversed(spec.get("sys_path", [])):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    from memwatch.stress import harness, measure, tasks

    reporter.reserve = measure.touch(bytearray(int(spec.get("reserve", 4 * 2**20))))
    reporter.emit("ready", pid=os.getpid(), cap_method=method, **measure.snapshot("start"))
    try:
        task = {**tasks.TASKS, **harness.TASKS}[spec["task"]]
        func = resolve_target(spec["target"]) if spec.get("target") else None
        factory = spec.get("params", {}).get("factory")
        if func is not None and factory:  # a component: each call is one lifecycle
            from memwatch.config.lifecycle import component_operation

            func = component_operation(func, resolve_target(factory))
        data = task(func, list(spec.get("args", [])), dict(spec.get("params", {})), reporter)
    except BadTarget as exc:
        reporter.emit("error", kind="bad-target", type="BadTarget", message=str(exc))
        return EXIT_BAD_TARGET
    except MemoryError as exc:
        reporter.release_reserve()
        reporter.emit("error", kind="memory", type=type(exc).__name__, message=str(exc))
        return EXIT_MEMORY
    except tasks.TaskFailed as exc:
        reporter.emit("error", kind="task", type=exc.kind, message=str(exc))
        return EXIT_TASK
    except Exception as exc:
        reporter.release_reserve()
        reporter.emit(
            "error",
            kind="raised",
            type=type(exc).__name__,
            message=str(exc),
            traceback=traceback.format_exc()[-4000:],
        )
        return EXIT_RAISED
    reporter.emit("result", data=data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
