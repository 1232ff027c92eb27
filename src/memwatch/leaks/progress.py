"""A live progress line for leak verdicts that take a while, on a terminal only.

The measurement protocols yield "run n more calls"; :func:`with_progress` passes those
requests through unchanged and, once a verdict has run longer than ``after`` seconds,
keeps one line on the terminal up to date: calls so far, time spent, and the growth of
Python's allocated blocks per call so far (a rough running estimate; the verdict's
statistics come later). The line is erased when the protocol ends. Nothing is written
when the stream is not a terminal (a pipe, a file, pytest's capture).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Generator
from typing import TextIO, TypeVar

__all__ = ["with_progress"]

T = TypeVar("T")

#: Seconds between two redraws of the line.
REFRESH = 0.2


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def with_progress(
    steps: Generator[int, None, T],
    label: str,
    *,
    stream: TextIO | None = None,
    after: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    blocks: Callable[[], int] = sys.getallocatedblocks,
    force: bool = False,
) -> Generator[int, None, T]:
    """``steps`` with a live line on ``stream`` (standard error by default); see the module."""
    out = sys.stderr if stream is None else stream
    if not force and not _is_terminal(out):
        return (yield from steps)
    began = clock()
    calls = 0
    shown = False
    last = began
    try:
        request = next(steps)  # the protocol's set-up (cache resets, freezing) is done now
        blocks0, calls0 = blocks(), 0
        while True:
            yield request
            calls += request
            now = clock()
            if now - began >= after and now - last >= REFRESH:
                per_call = (blocks() - blocks0) / max(calls - calls0, 1)
                out.write(
                    f"\r\x1b[K{label}: {calls:,} calls, {now - began:.1f} s, "
                    f"{per_call:+.2g} allocated blocks per call so far"
                )
                out.flush()
                shown, last = True, now
            request = steps.send(None)
    except StopIteration as stop:
        value: T = stop.value
        return value
    finally:
        steps.close()
        if shown:
            out.write("\r\x1b[K")
            out.flush()
