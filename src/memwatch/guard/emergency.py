"""The last steps of an emergency shutdown: shutdown hooks, the final word, the exit code.

The guard flushes the preserved buffers first (:mod:`memwatch.guard.preserve`),
then runs the hooks in the order they were added (one that raises is logged and
counted, the rest still run), logs one CRITICAL line saying where memory stood and
what was saved, flushes stdout and stderr, and ends the process with
``os._exit(exit_code)``: from the guard thread ``sys.exit`` would only end that
thread, and the main thread may be stuck in an allocation.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from memwatch.model.guard import GuardSample
from memwatch.units import format_size

__all__ = ["announce_exit", "run_hooks"]

_log = logging.getLogger("memwatch.guard")


def run_hooks(hooks: list[Callable[[], Any]], on_error: Callable[[], None]) -> None:
    """Run every hook; a failing hook is logged and counted, the others still run."""
    for hook in hooks:
        try:
            hook()
        except Exception:
            on_error()
            _log.exception("memwatch guard: shutdown hook %r raised", hook)


def announce_exit(sample: GuardSample | None, files: int, exit_code: int) -> None:
    """Log where memory stood and what was saved; flush the standard streams."""
    _log.critical(
        "memwatch guard: emergency shutdown at %s of %s (%s); preserved %d file(s); exiting with code %d",
        format_size(sample.usage if sample else 0),
        format_size(sample.budget if sample else 0),
        sample.budget_source if sample else "?",
        files,
        exit_code,
    )
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
