"""Compare the output a document shows with the output of a real run, and rewrite it.

The rules (also in tests/docs/README.md):

- a line that is ``...`` alone stands for any number of lines (none included);
- ``...`` inside a line stands for any text on that line;
- runs of spaces match any run of spaces (tables re-align when a value gets wider);
- a run of three or more of one rule character (``━═─=-_``) matches a run of any length;
- numbers match any number, unless the block says ``exact``; a sign written before a number
  (``+8.6 MiB``) matches either sign, and a size or time unit after it matches any unit of the
  same family (``980.0 ms`` vs ``1.02 s``). A line that is only a number (an exit status
  printed by ``echo $?``) must match exactly.

``rewrite`` builds the new text of a block from a real run, keeping every ``...``: the lines a
``...`` line stood for and the text an inline ``...`` stood for stay elided.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

SIZE_UNITS = ("B", "kB", "KB", "KiB", "MB", "MiB", "GB", "GiB", "TB", "TiB")
TIME_UNITS = ("ns", "µs", "us", "ms", "s", "min", "h")
NUMBER = r"\d+(?:[,.]\d+)*(?:[eE][-+]?\d+)?"
_UNIT_ALT = "|".join(re.escape(u) for u in sorted(SIZE_UNITS + TIME_UNITS, key=len, reverse=True))
TOKEN = re.compile(
    rf"(?P<dots>\.\.\.)"
    rf"|(?P<num>(?<![\w)])[-+]?{NUMBER}(?:\s?(?:{_UNIT_ALT})(?![\w]))?|{NUMBER}(?:\s?(?:{_UNIT_ALT})(?![\w]))?)"
    rf"|(?P<ws>[ \t]+)"
    rf"|(?P<rule>([━═─=_\-])\5{{2,}})"
)
ONLY_NUMBER = re.compile(rf"^\s*[-+]?{NUMBER}\s*$")


def _unit_family(unit: str) -> tuple[str, ...] | None:
    if unit in SIZE_UNITS:
        return SIZE_UNITS
    if unit in TIME_UNITS:
        return TIME_UNITS
    return None


def _number_pattern(token: str) -> str:
    m = re.fullmatch(rf"(?P<sign>[-+]?)(?P<n>{NUMBER})(?P<sp>\s?)(?P<unit>\S*)", token)
    assert m is not None, token
    sign = "[-+]?" if m.group("sign") else ""
    unit = m.group("unit")
    if not unit:
        return sign + NUMBER
    family = _unit_family(unit)
    alternatives = "|".join(re.escape(u) for u in sorted(family or (unit,), key=len, reverse=True))
    return rf"{sign}{NUMBER}\s?(?:{alternatives})(?!\w)"


@dataclass(frozen=True)
class LinePattern:
    regex: re.Pattern[str]
    kinds: tuple[str, ...]  # one per group: "lit", "dots" (kept as "...") or "var" (taken from the run)


@cache
def compile_line(line: str, exact: bool) -> LinePattern:
    parts: list[str] = []
    kinds: list[str] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            parts.append(f"({re.escape(''.join(literal))})")
            kinds.append("lit")
            literal.clear()

    only_number = bool(ONLY_NUMBER.match(line))
    pos = 0
    for m in TOKEN.finditer(line):
        literal.extend(line[pos : m.start()])
        pos = m.end()
        kind = m.lastgroup
        if kind == "dots":
            flush()
            parts.append("(.*?)")
            kinds.append("dots")
        elif kind == "num" and not exact and not only_number:
            flush()
            parts.append(f"({_number_pattern(m.group())})")
            kinds.append("var")
        elif kind == "ws":
            flush()
            parts.append(r"([ \t]+)")
            kinds.append("var")
        elif kind == "rule":
            flush()
            char = m.group()[0]
            parts.append(f"({re.escape(char)}+)")
            kinds.append("var")
        else:
            literal.extend(m.group())
    literal.extend(line[pos:])
    flush()
    return LinePattern(re.compile("".join(parts) + r"\Z"), tuple(kinds))


def _line_match(pattern: str, actual: str, exact: bool) -> re.Match[str] | None:
    return compile_line(pattern.rstrip(), exact).regex.match(actual.rstrip())


def _rebuild(pattern: str, actual: str, exact: bool) -> str:
    compiled = compile_line(pattern.rstrip(), exact)
    m = compiled.regex.match(actual.rstrip())
    if m is None:
        return actual.rstrip()
    return "".join(
        "..." if kind == "dots" else (m.group(i + 1) or "") for i, kind in enumerate(compiled.kinds)
    )


def _is_dots(line: str) -> bool:
    return line.strip() == "..."


def match(expected: list[str], actual: list[str], exact: bool = False) -> list[int] | None:
    """Which actual line each expected line matched (-1 for a ``...`` line), or None."""
    memo: dict[tuple[int, int], list[int] | None] = {}

    def walk(i: int, j: int) -> list[int] | None:
        key = (i, j)
        if key in memo:
            return memo[key]
        result: list[int] | None = None
        if i == len(expected):
            result = [] if j == len(actual) else None
        elif _is_dots(expected[i]):
            for k in range(j, len(actual) + 1):
                rest = walk(i + 1, k)
                if rest is not None:
                    result = [-1, *rest]
                    break
        elif j < len(actual) and _line_match(expected[i], actual[j], exact):
            rest = walk(i + 1, j + 1)
            if rest is not None:
                result = [j, *rest]
        memo[key] = result
        return result

    return walk(0, 0)


def rewrite(expected: list[str], actual: list[str], exact: bool = False) -> list[str]:
    """The shown output made from the real one, keeping the ``...`` elisions of ``expected``."""
    aligned = match(expected, actual, exact)
    if aligned is not None:
        return [
            "..." if _is_dots(line) else _rebuild(line, actual[j], exact)
            for line, j in zip(expected, aligned, strict=True)
        ]
    # The output changed beyond the patterns: keep what still matches, elide what a "..."
    # line elided before, show the rest as it is now.
    out: list[str] = []
    j = 0
    dots = False
    for line in expected:
        if _is_dots(line):
            dots = True
            continue
        k = next((k for k in range(j, len(actual)) if _line_match(line, actual[k], exact)), None)
        if k is None:
            continue  # this line is gone from the output
        if dots:
            out.append("...")
        else:
            out.extend(a.rstrip() for a in actual[j:k])
        out.append(_rebuild(line, actual[k], exact))
        j, dots = k + 1, False
    if dots and j < len(actual):
        out.append("...")
    elif j < len(actual):
        out.extend(a.rstrip() for a in actual[j:])
    return out
