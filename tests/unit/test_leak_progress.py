"""The live progress line: shown on a terminal after a second, erased at the end, never elsewhere."""

from __future__ import annotations

import io
from collections.abc import Generator

from memwatch.leaks.operation import drive
from memwatch.leaks.progress import with_progress


def _protocol(batches: int) -> Generator[int, None, str]:
    for _ in range(batches):
        yield 10
    return "verdict"


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.3  # each read: 0.3 s later
        return self.now


def test_line_shown_after_a_second_and_erased() -> None:
    out = io.StringIO()
    calls: list[int] = []
    counter = iter(range(100, 10_000, 7))
    steps = with_progress(
        _protocol(8), "leaks app:handle", stream=out, clock=_Clock(), blocks=lambda: next(counter), force=True
    )
    assert drive(steps, calls.append) == "verdict"
    assert calls == [10] * 8
    text = out.getvalue()
    assert "\r\x1b[Kleaks app:handle: 40 calls, 1.2 s, +0.17 allocated blocks per call so far" in text
    assert text.endswith("\r\x1b[K")


def test_nothing_written_when_not_a_terminal() -> None:
    out = io.StringIO()  # isatty() is False
    calls: list[int] = []
    assert drive(with_progress(_protocol(20), "x", stream=out, clock=_Clock()), calls.append) == "verdict"
    assert calls == [10] * 20
    assert out.getvalue() == ""


def test_quick_verdict_writes_nothing() -> None:
    out = io.StringIO()
    ticks = iter(x * 0.01 for x in range(1000))
    steps = with_progress(_protocol(20), "x", stream=out, clock=lambda: next(ticks), force=True)
    drive(steps, lambda n: None)
    assert out.getvalue() == ""
