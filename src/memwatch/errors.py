"""Exceptions raised by memwatch.

Every exception carries the process exit code the CLI maps it to, so that the
mapping lives in one place (``memwatch.cli.main``)::

    MemwatchError                 exit 3  anything memwatch raises on purpose
     +-- ConfigError              exit 2  bad size, duration, option, config file, marker argument
     +-- UsageError               exit 2  a command used the wrong way (bad target, bad path)
     +-- DataError                exit 2  a run file or database: missing, corrupt, other version
     +-- UnavailableError         exit 3  a probe or optional dependency that cannot work here
     +-- OperationError           exit 3  the code under test raised; carries the original exception
     +-- CheckFailed              exit 1  a memory check failed (budget, leak, regression)
          +-- LeakDetected                a leak engine verdict; carries ``.report``

Exit codes: 0 ok, 1 a check failed, 2 usage or configuration error, 3 other (the code under
test raised or crashed), 4 no verdict (a measurement that could not decide: ``memwatch leaks``
on an inconclusive verdict).

There is no "memory limit exceeded" exception: a budget that is exceeded is a
failed check of the engine that measured it (``@pytest.mark.limit_memory`` fails
its test with the measured peak and the limit; the results' ``raise_for_leaks``,
``raise_for_regressions`` and ``raise_for_failures`` raise :class:`CheckFailed`),
and memory that really runs out is Python's own ``MemoryError``, which
:func:`memwatch.oom_protected` and the stress tests handle.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = [
    "EXIT_CHECK_FAILED",
    "EXIT_INCONCLUSIVE",
    "EXIT_OK",
    "EXIT_OTHER",
    "EXIT_USAGE",
    "CheckFailed",
    "ConfigError",
    "DataError",
    "LeakDetected",
    "MemwatchError",
    "OperationError",
    "UnavailableError",
    "UsageError",
    "user_traceback",
]

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_OTHER = 3
EXIT_INCONCLUSIVE = 4


class MemwatchError(Exception):
    """Base class of every error memwatch raises on purpose."""

    exit_code: int = EXIT_OTHER

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class ConfigError(MemwatchError, ValueError):
    """A size, duration, option or configuration value that cannot be used."""

    exit_code = EXIT_USAGE


class UsageError(MemwatchError):
    """A command or API used the wrong way: a bad target, a path that cannot be written."""

    exit_code = EXIT_USAGE


class DataError(MemwatchError):
    """A run file or database that is missing, corrupt, or of an unknown schema version."""

    exit_code = EXIT_USAGE


class UnavailableError(MemwatchError):
    """A probe or optional dependency that cannot work on this machine."""

    exit_code = EXIT_OTHER


class OperationError(MemwatchError):
    """The code under test raised an exception memwatch did not expect."""

    exit_code = EXIT_OTHER

    def __init__(
        self, message: str, *, original: BaseException | None = None, traceback_text: str = ""
    ) -> None:
        super().__init__(message)
        self.original = original
        self.traceback_text = traceback_text


class CheckFailed(MemwatchError):
    """A memory check failed: a budget, a leak verdict or a regression gate."""

    exit_code = EXIT_CHECK_FAILED


class LeakDetected(CheckFailed):
    """The leak engine found a leak; ``.report`` holds the whole verdict."""

    def __init__(self, message: str, *, report: Any = None) -> None:
        super().__init__(message)
        self.report = report


for _cls in (
    MemwatchError,
    ConfigError,
    UsageError,
    DataError,
    UnavailableError,
    OperationError,
    CheckFailed,
    LeakDetected,
):
    _cls.__module__ = "memwatch"
del _cls


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_traceback(exc: BaseException) -> str:
    """``exc``'s traceback, chained causes and contexts included, without memwatch's frames.

    Frames of memwatch itself are dropped everywhere, and the standard library's frames
    that lead from memwatch to the user's code (asyncio running a coroutine) are dropped
    at the top of each stack, unless nothing else is left: what remains is what the code
    under test did.
    """
    import sysconfig
    import traceback

    paths = sysconfig.get_paths()
    stdlib = tuple(os.path.abspath(paths[key]) + os.sep for key in ("stdlib", "platstdlib"))
    installed = tuple(os.path.abspath(paths[key]) + os.sep for key in ("purelib", "platlib"))

    def standard(filename: str) -> bool:
        path = os.path.abspath(filename)
        return path.startswith(stdlib) and not path.startswith(installed)

    top = traceback.TracebackException.from_exception(exc)
    seen: set[int] = set()
    pending = [top]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        frames = [f for f in current.stack if not os.path.abspath(f.filename).startswith(_PACKAGE)]
        start = 0
        while start < len(frames) and standard(frames[start].filename):
            start += 1
        if start < len(frames):
            frames = frames[start:]
        current.stack = traceback.StackSummary.from_list(frames)
        pending.extend(
            e
            for e in (current.__cause__, current.__context__, *(getattr(current, "exceptions", None) or ()))
            if e is not None
        )
    return "".join(top.format())
