"""The one child-process runner: start a command, wait for it under a time limit, stop its
process group, say how it ended, and read the JSON document it left.

Used by ``memwatch run`` (:mod:`memwatch.runs.command`), leak isolation
(:mod:`memwatch.leaks.isolate`), pytest isolation (:mod:`memwatch.plugin.isolate`) and
the capped stress children (:mod:`memwatch.stress.child`).

- The child is reaped with ``wait4``, whose ``ru_maxrss`` is its peak RSS (the kernel's
  figure, right even after SIGKILL).
- ``new_session=True`` (the default) makes the child lead its own session: signals go to
  its whole process group, and whatever it started is killed when it ends. ``memwatch
  run`` keeps its command in memwatch's group instead, so Ctrl-C in a terminal reaches
  the command as usual and an interactive command keeps its terminal.
- Past ``timeout`` the child gets SIGTERM, and SIGKILL ``grace`` seconds later if it is
  still there (a child that ignores SIGTERM cannot hang the caller).
- An exception listed in ``interrupts`` (Ctrl-C, for instance) while waiting stops the
  child gently (SIGINT, SIGTERM, SIGKILL, each after a pause) and the run ends as
  ``interrupted``; any other exception kills the child at once and propagates: a child
  is never left behind.
- Output goes to anonymous temporary files (never a pipe that fills while nobody reads
  it) and comes back as text; ``capture="none"`` leaves the terminal to the child.
- ``document`` names a file the child writes its answer to: one JSON value, or JSON
  lines (``document_lines=True``: a torn or garbled line is skipped, so a child killed
  mid-write still leaves every line it finished).

:meth:`Ending.describe` says how it ended in one phrase: ``exited with code 7``,
``killed by SIGKILL``, ``timed out after 5 s (stopped with SIGTERM)``.
"""

from __future__ import annotations

import json
import os
import signal as signals
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

__all__ = [
    "ChildRun",
    "EndKind",
    "Ending",
    "read_json",
    "read_json_lines",
    "run_child",
    "signal_name",
]

EndKind = Literal["exited", "signal", "timeout", "interrupted", "failed-to-start"]
Capture = Literal["split", "merged", "none"]

#: after SIGKILL: how long to wait before blocking in wait4 for good
_KILL_WAIT = 60.0


def signal_name(number: int) -> str:
    """``9`` -> ``"SIGKILL"``; a number Python does not name -> ``"signal 99"``."""
    try:
        return signals.Signals(number).name
    except ValueError:
        return f"signal {number}"


@dataclass(frozen=True)
class Ending:
    """How a child ended.

    ``kind``: ``exited`` (with ``exit_code``), ``signal`` (killed by ``signal``, not by
    this runner), ``timeout`` (stopped after ``timeout`` seconds with ``stopped_with``),
    ``interrupted`` (the caller was interrupted and stopped it), ``failed-to-start``
    (``error`` says why). ``exit_code``/``signal`` are the wait status whatever the kind;
    ``peak_rss`` is the child's ``ru_maxrss`` in bytes (None when it never ran);
    ``cpu_user``/``cpu_system`` its CPU seconds from the same ``wait4``.
    """

    kind: EndKind
    exit_code: int | None = None
    signal: int | None = None
    wall: float = 0.0
    peak_rss: float | None = None
    timeout: float | None = None
    stopped_with: str | None = None
    error: str = ""
    cpu_user: float = 0.0
    cpu_system: float = 0.0

    @property
    def ok(self) -> bool:
        """Exited by itself with code 0."""
        return self.kind == "exited" and self.exit_code == 0

    def describe(self) -> str:
        """One phrase: ``exited with code 7``, ``killed by SIGKILL``, ``timed out after 5 s ...``."""
        if self.kind == "failed-to-start":
            return f"failed to start ({self.error})"
        if self.kind == "timeout":
            return f"timed out after {self.timeout:g} s (stopped with {self.stopped_with})"
        if self.kind == "interrupted":
            return f"interrupted (stopped with {self.stopped_with})"
        if self.signal is not None:
            return f"killed by {signal_name(self.signal)}"
        return f"exited with code {self.exit_code}"


@dataclass(frozen=True)
class ChildRun:
    """A finished child: its ``ending``, its output, and the ``document`` it wrote (or None)."""

    argv: tuple[str, ...]
    pid: int | None
    ending: Ending
    stdout: str = ""
    stderr: str = ""
    document: Any = None

    @property
    def output(self) -> str:
        """stdout then stderr (with ``capture="merged"`` all of it is in ``stdout``)."""
        return self.stdout + self.stderr


def read_json(path: str | os.PathLike[str]) -> Any:
    """The JSON value in a file; None when the file is missing, empty or not JSON."""
    try:
        return json.loads(Path(path).read_bytes())
    except (OSError, ValueError):
        return None


def read_json_lines(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The complete JSON-object lines of a file; a torn or garbled line is skipped."""
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return []
    out = []
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def _send(pid: int, sig: signals.Signals, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class _Waiter:
    """Waits for one child with ``wait4`` and stops it when told to."""

    def __init__(self, pid: int, group: bool) -> None:
        self.pid = pid
        self.group = group
        self.status = 0
        self.rusage: Any = None
        self.sent: str | None = None

    def poll(self) -> bool:
        pid, status, rusage = os.wait4(self.pid, os.WNOHANG)
        if pid:
            self.status, self.rusage = status, rusage
        return bool(pid)

    def block(self) -> None:
        _pid, self.status, self.rusage = os.wait4(self.pid, 0)

    def signal(self, sig: signals.Signals) -> None:
        _send(self.pid, sig, self.group)
        self.sent = sig.name

    def stop(self, steps: Sequence[tuple[signals.Signals, float]]) -> None:
        """Send each signal in turn, waiting up to its pause for the child to end."""
        for sig, pause in steps:
            self.signal(sig)
            deadline = time.monotonic() + pause
            while time.monotonic() < deadline:
                if self.poll():
                    return
                time.sleep(0.005)
        self.block()


def run_child(
    argv: Sequence[str],
    *,
    timeout: float | None = None,
    grace: float = 2.0,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    capture: Capture = "split",
    new_session: bool = True,
    document: str | os.PathLike[str] | None = None,
    document_lines: bool = False,
    interrupts: tuple[type[BaseException], ...] = (),
    interrupt_grace: float = 3.0,
    on_start: Callable[[int], None] | None = None,
    while_running: Callable[[], None] | None = None,
    poll: float = 0.02,
) -> ChildRun:
    """Run ``argv`` to its end and say how it ended; never raises for the child's fate.

    ``on_start(pid)`` runs once the child exists; ``while_running()`` between two looks
    at it (every ``poll`` seconds at most, sooner at first). See the module docstring.
    """
    argv = tuple(str(a) for a in argv)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        stdout: IO[bytes] | None = None if capture == "none" else out
        stderr: IO[bytes] | int | None = None
        if capture == "split":
            stderr = err
        elif capture == "merged":
            stderr = subprocess.STDOUT
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv,
                stdin=None if capture == "none" else subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                env=None if env is None else dict(env),
                cwd=cwd,
                start_new_session=new_session,
            )
        except OSError as exc:
            ending = Ending("failed-to-start", error=exc.strerror or str(exc))
            return ChildRun(argv, None, ending)
        waiter = _Waiter(proc.pid, new_session)
        kind: EndKind | None = None
        try:
            if on_start is not None:
                on_start(proc.pid)
            kind = _wait(waiter, timeout, grace, while_running, poll)
        except interrupts:
            waiter.stop(
                ((signals.SIGINT, interrupt_grace), (signals.SIGTERM, 2.0), (signals.SIGKILL, _KILL_WAIT))
            )
            kind = "interrupted"
        except BaseException:
            if waiter.rusage is None:
                waiter.signal(signals.SIGKILL)
                waiter.block()
            raise
        finally:
            proc.returncode = os.waitstatus_to_exitcode(waiter.status) if waiter.rusage is not None else None
            if new_session:
                _send(proc.pid, signals.SIGKILL, True)  # whatever the child started ends with it
        wall = time.monotonic() - started
        status = waiter.status
        signaled = os.WIFSIGNALED(status)
        if kind == "exited" and signaled:
            kind = "signal"
        ending = Ending(
            kind=kind,
            exit_code=None if signaled else os.waitstatus_to_exitcode(status),
            signal=os.WTERMSIG(status) if signaled else None,
            wall=wall,
            peak_rss=float(waiter.rusage.ru_maxrss) * 1024.0,
            timeout=timeout,
            stopped_with=waiter.sent,
            cpu_user=float(waiter.rusage.ru_utime),
            cpu_system=float(waiter.rusage.ru_stime),
        )
        texts = []
        for handle in (out, err):
            handle.seek(0)
            texts.append(handle.read().decode("utf-8", "replace"))
    found: Any = None
    if document is not None:
        found = read_json_lines(document) if document_lines else read_json(document)
    return ChildRun(argv, proc.pid, ending, texts[0], texts[1], found)


def _wait(
    waiter: _Waiter,
    timeout: float | None,
    grace: float,
    while_running: Callable[[], None] | None,
    poll: float,
) -> EndKind:
    deadline = None if timeout is None else time.monotonic() + timeout
    pause = 0.001
    kind: EndKind = "exited"
    while not waiter.poll():
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            if waiter.sent is None:
                waiter.signal(signals.SIGTERM)
                kind, deadline = "timeout", now + grace
            elif waiter.sent == "SIGTERM":
                waiter.signal(signals.SIGKILL)
                deadline = now + _KILL_WAIT
            else:
                waiter.block()
                break
        if while_running is not None:
            while_running()
        time.sleep(pause)
        pause = min(pause * 2, poll)
    return kind
