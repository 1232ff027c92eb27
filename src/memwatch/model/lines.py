"""Results of the line-level memory profiler (``@memwatch.profile``, ``memwatch lines``).

Every figure is in bytes. Per source line of a profiled function:

- ``increment``: traced memory after the line minus before it, summed over its hits
  (inclusive of everything the line called: memory_profiler's "Increment", but exact);
- ``peak``: the most traced memory rose above its value at the line's start while the
  line ran (the largest over its hits): what the line needs at its worst;
- ``kept``/``blocks``: bytes and blocks allocated directly on this line that were still
  alive when the profiled call returned (tracemalloc traces: exact also with threads);
- ``native``: the glibc malloc heap's change over the line (C allocations that tracemalloc
  does not see show here; large Python objects show in both), when asked for;
- ``hits``: how often the line ran; ``shared``: hits during which another profiled thread
  ran too, so that ``increment``/``peak`` may include that thread's memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from memwatch.model.base import Record, register_kind

__all__ = ["FunctionLines", "LineProfile", "LineStat"]


@dataclass(frozen=True)
class LineStat(Record):
    lineno: int
    source: str
    hits: int = 0
    increment: int = 0
    peak: int = 0
    kept: int = 0
    blocks: int = 0
    native: int | None = None
    shared: int = 0


@dataclass(frozen=True)
class FunctionLines(Record):
    """One profiled function: its lines in source order (lines that never ran have 0 hits)."""

    name: str
    qualname: str
    filename: str
    first_line: int
    calls: int
    lines: tuple[LineStat, ...]

    @property
    def increment(self) -> int:
        return sum(line.increment for line in self.lines)

    @property
    def peak(self) -> int:
        return max((line.peak for line in self.lines), default=0)

    @property
    def kept(self) -> int:
        return sum(line.kept for line in self.lines)


@register_kind("line_profile")
@dataclass(frozen=True)
class LineProfile(Record):
    """A line profile of one or more functions; ``native`` says whether that column was read."""

    functions: tuple[FunctionLines, ...]
    duration: float
    native: bool = False
    threads: int = 1
    command: tuple[str, ...] = ()
    exit_code: int | None = None
    note: str = ""
