"""Source text and code objects: which lines a function spans, and finding functions by name."""

from __future__ import annotations

import linecache
from collections.abc import Iterator
from types import CodeType

__all__ = ["code_lines", "iter_functions", "source_lines"]


def source_lines(filename: str) -> list[str]:
    """The file's lines without line ends ([] when it cannot be read)."""
    return [line.rstrip("\n").rstrip("\r") for line in linecache.getlines(filename)]


def _last_line(code: CodeType) -> int:
    last = code.co_firstlineno
    for _, _, line in code.co_lines():
        if line is not None and line > last:
            last = line
    for const in code.co_consts:
        if isinstance(const, CodeType):
            last = max(last, _last_line(const))
    return last


def code_lines(code: CodeType) -> range:
    """Line numbers from the function's first line (its first decorator) to its last one."""
    return range(code.co_firstlineno, _last_line(code) + 1)


def iter_functions(code: CodeType) -> Iterator[CodeType]:
    """Every function, method, lambda and comprehension code object nested in ``code``."""
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield const
            yield from iter_functions(const)
