"""Run a command and sample the memory of its process tree until it exits (``memwatch run``).

The command runs under the one child runner (:func:`memwatch.runs.child.run_child`).
RSS is summed over the child and its descendants (psutil finds them every 0.25 s).
The child's own peak from the kernel (``ru_maxrss`` from ``wait4``) is a floor
for the peak: a spike between two samples is not lost for the top process.

**Phases from inside the child.** ``memwatch run`` puts a path in the
``MEMWATCH_PHASE_FILE`` environment variable; the child appends one line per mark::

    start load @12345.678901
    end load @12345.912345

``@`` and a ``time.monotonic()`` reading are optional (without them the time the
parent read the line is used; Linux's monotonic clock is shared by all processes).
The child can use the helpers here, which do nothing when the variable is unset::

    from memwatch.runs.command import phase
    with phase("load"):
        data = load()

This module imports only the standard library at import time, so a child pays
almost nothing for the helpers.
"""

from __future__ import annotations

import math
import os
import shutil
import signal as signals_module
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal

from memwatch.errors import UsageError

if TYPE_CHECKING:
    from memwatch.model.timeline import RunResult
    from memwatch.sampling.sampler import Sampler

__all__ = [
    "PHASE_ENV",
    "PhaseFileReader",
    "mark_phase_end",
    "mark_phase_start",
    "parse_phase_line",
    "phase",
    "run_command",
]

PHASE_ENV = "MEMWATCH_PHASE_FILE"


# -- inside the child -------------------------------------------------------
def _write_mark(verb: str, name: str) -> None:
    path = os.environ.get(PHASE_ENV)
    if not path:
        return
    if not name or "\n" in name:
        raise ValueError(f"invalid phase name {name!r}")
    line = f"{verb} {name} @{time.monotonic():.6f}\n".encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)  # one write with O_APPEND: lines never interleave
    finally:
        os.close(fd)


def mark_phase_start(name: str) -> None:
    """Mark the start of a phase for a ``memwatch run`` watching this process (else a no-op)."""
    _write_mark("start", name)


def mark_phase_end(name: str) -> None:
    """Mark the end of a phase (see :func:`mark_phase_start`)."""
    _write_mark("end", name)


@contextmanager
def phase(name: str) -> Iterator[None]:
    """``with phase("load"): ...``: start and end marks, the end even on an exception."""
    mark_phase_start(name)
    try:
        yield
    finally:
        mark_phase_end(name)


# -- in memwatch ------------------------------------------------------------
def parse_phase_line(line: str) -> tuple[Literal["start", "end"], str, float | None] | None:
    """``"start load @12.5"`` -> ``("start", "load", 12.5)``; None for a line that is not a mark."""
    verb, _, rest = line.strip().partition(" ")
    if verb not in ("start", "end") or not rest.strip():
        return None
    name, at = rest.strip(), None
    head, sep, stamp = name.rpartition(" @")
    if sep:
        try:
            at = float(stamp)
            name = head.strip()
        except ValueError:
            at = None
    if not name:
        return None
    return ("start" if verb == "start" else "end"), name, at


class PhaseFileReader:
    """Reads the marks appended to a phase file since the last call (whole lines only)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""
        self.ignored = 0

    def poll(self) -> list[tuple[Literal["start", "end"], str, float | None]]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except OSError:
            return []
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        marks = []
        for raw in lines:
            mark = parse_phase_line(raw.decode("utf-8", "replace"))
            if mark is None:
                self.ignored += bool(raw.strip())
            else:
                marks.append(mark)
        return marks


class _Terminated(Exception):
    """memwatch itself received SIGTERM: stop the child and keep what was sampled."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


def _check_command(argv: Sequence[str]) -> None:
    if not argv:
        raise UsageError("no command to run: give one after --, e.g. memwatch run -- python job.py")
    exe = argv[0]
    if os.sep in exe:
        if not os.path.exists(exe):
            raise UsageError(f"command not found: {exe}")
        if os.path.isdir(exe) or not os.access(exe, os.X_OK):
            raise UsageError(f"cannot execute {exe}: not an executable file")
    elif shutil.which(exe) is None:
        raise UsageError(f"command not found: {exe}")


def run_command(
    argv: Sequence[str],
    *,
    interval: float = 0.01,
    signals: Sequence[str] | None = None,
    mode: Literal["thread", "process"] = "thread",
    include_children: bool = True,
    label: str = "",
    grace: float = 3.0,
) -> RunResult:
    """Run ``argv``, sample its memory until it exits, and return the run.

    Never raises for the child's own failure: the result's ``exit`` says how it
    ended (``exited`` with ``exit_code``, ``signal`` with ``signal``, or
    ``interrupted`` after Ctrl-C or SIGTERM to memwatch, which stop the child first).
    A command that does not exist raises :class:`UsageError` before anything runs.
    """
    from memwatch.runs.child import run_child
    from memwatch.sampling.profiler import build_run_result
    from memwatch.sampling.sampler import Sampler
    from memwatch.sampling.sources import validate_signals

    argv = [str(a) for a in argv]
    validate_signals(signals, mode=mode, other_process=True)
    _check_command(argv)
    fd, phase_path = tempfile.mkstemp(prefix="memwatch-phases-", suffix=".txt")
    os.close(fd)
    env = dict(os.environ, **{PHASE_ENV: phase_path})
    reader = PhaseFileReader(phase_path)
    samplers: list[Sampler] = []

    own_peak: list[float] = []

    def start_sampling(pid: int) -> None:
        own_peak.append(_own_peak_rss())
        try:
            _let_program_load(pid, interval)
        finally:  # even when Ctrl-C comes during the wait: the run still has a sampler to stop
            samplers.append(Sampler(interval, signals, mode=mode, pid=pid, include_children=include_children))
            samplers[0].start()

    def apply_marks() -> None:
        if samplers:
            _apply_marks(samplers[0], reader)

    previous = None
    with suppress(ValueError):  # not the main thread: no SIGTERM handler
        previous = signals_module.signal(signals_module.SIGTERM, _on_sigterm)
    try:
        # In memwatch's own process group: Ctrl-C in a terminal reaches the command too,
        # and an interactive command keeps its terminal.
        run = run_child(
            argv,
            env=env,
            capture="none",
            new_session=False,
            interrupts=(KeyboardInterrupt, _Terminated),
            interrupt_grace=grace,
            on_start=start_sampling,
            while_running=apply_marks,
            poll=min(interval, 0.02),
        )
        if run.ending.kind == "failed-to-start":
            raise UsageError(f"cannot run {argv[0]}: {run.ending.error}")
        sampler = samplers[0]
        apply_marks()
        timeline = sampler.stop()
    finally:
        if previous is not None:
            signals_module.signal(signals_module.SIGTERM, previous)
        with suppress(OSError):
            os.unlink(phase_path)
    ending = run.ending
    exit_kind: Literal["exited", "signal", "interrupted"] = (
        "interrupted" if ending.kind == "interrupted" else "signal" if ending.signal is not None else "exited"
    )
    # The kernel's ru_maxrss of a child counts the memory it had before its exec (a copy of
    # memwatch's own, or memwatch's own with vfork): below memwatch's own peak it says nothing.
    kernel_peak = ending.peak_rss or 0.0
    if own_peak and kernel_peak <= own_peak[0]:
        kernel_peak = 0.0
    return build_run_result(
        timeline,
        exit=exit_kind,
        extra_peak=kernel_peak or None,
        extra_peak_source="ru_maxrss of the top process (kernel)",
        duration=ending.wall or timeline.duration,  # from the start, not from the first sample
        command=tuple(argv),
        exit_code=ending.exit_code,
        signal=ending.signal,
        pid=run.pid,
        label=label,
    )


def _own_peak_rss() -> float:
    from memwatch.probes.process import peak_rss

    reading = peak_rss()
    return reading.value if reading.value is not None else math.inf


def _let_program_load(pid: int, interval: float) -> None:
    """Wait one sampling interval (less if the command ends) before the command's first sample.

    The child runner returns as soon as the exec has begun: a sample then catches the new
    program before its loader has run (a few KiB), and growth measured from it is the
    program's whole size. The first sample is taken where the first scheduled one would be.
    """
    from memwatch.probes.process import StatmReader

    deadline = time.monotonic() + interval
    try:
        reader = StatmReader(pid)
    except ProcessLookupError:
        return
    try:
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.002))
            reader.read_rss()  # raises once the command has ended: no point waiting longer
    except ProcessLookupError:
        return
    finally:
        reader.close()


def _apply_marks(sampler: Any, reader: PhaseFileReader) -> None:
    for verb, name, at in reader.poll():
        try:
            if verb == "start":
                sampler.mark_phase_start(name, at)
            else:
                sampler.mark_phase_end(name, at)
        except UsageError:
            reader.ignored += 1  # an end without a start: keep going, the run matters more
