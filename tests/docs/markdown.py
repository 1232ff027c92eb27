"""Split a Markdown file into the fenced blocks the docs tests run (see tests/docs/README.md).

Pure text handling: no execution here. A block knows its language, its text, the line its
fence opens on, the directives in the ``<!-- docs: ... -->`` comments right above it, and
whether prose stands between it and the block before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
DIRECTIVE = re.compile(r"^\s*<!--\s*docs:(?P<body>.*?)-->\s*$")
COMMAND_LANGS = {"console", "bash", "sh", "shell"}
OUTPUT_LANGS = {"", "text", "output"}
KNOWN_DIRECTIVES = {"skip", "file", "config", "cwd", "output", "exact", "timeout", "columns"}


@dataclass
class Block:
    path: Path
    lang: str
    text: str
    start: int  # 1-based line number of the opening fence
    content_start: int  # 0-based index of the first content line in the file
    content_end: int  # 0-based index of the closing fence line (exclusive end of content)
    indent: str
    directives: dict[str, str] = field(default_factory=dict)
    prose_before: bool = False  # non-blank text between the previous block and this one

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.start}"

    @property
    def has_commands(self) -> bool:
        return any(line.startswith("$ ") or line == "$" for line in self.text.splitlines())


def parse_directives(body: str, where: str) -> dict[str, str]:
    """``skip: reason; cwd: examples`` -> {"skip": "reason", "cwd": "examples"}."""
    found: dict[str, str] = {}
    body, skip, reason = body.partition("skip:")  # a reason is free text: it ends the comment
    if skip:
        found["skip"] = reason.strip()
    for raw in body.split(";"):
        part = raw.strip()
        if not part:
            continue
        name, _, value = part.partition(":")
        name = name.strip()
        if name not in KNOWN_DIRECTIVES:
            raise ValueError(f"{where}: unknown docs directive {name!r} (known: {sorted(KNOWN_DIRECTIVES)})")
        found[name] = value.strip()
    if "skip" in found and not found["skip"]:
        raise ValueError(f"{where}: 'docs: skip' needs a reason")
    return found


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    pending: dict[str, str] = {}
    prose = False
    i = 0
    while i < len(lines):
        line = lines[i]
        directive = DIRECTIVE.match(line)
        if directive:
            pending.update(parse_directives(directive.group("body"), f"{path.name}:{i + 1}"))
            i += 1
            continue
        fence = FENCE.match(line)
        if not fence:
            if line.strip():
                if pending:
                    raise ValueError(f"{path.name}:{i + 1}: a docs directive must stand right above a block")
                prose = True
            i += 1
            continue
        indent, mark = fence.group("indent"), fence.group("fence")
        end = i + 1
        while end < len(lines) and not (
            lines[end].startswith(indent) and lines[end][len(indent) :].rstrip() == mark
        ):
            end += 1
        if end == len(lines):
            raise ValueError(f"{path.name}:{i + 1}: fenced block never closed")
        body = [
            text[len(indent) :] if text.startswith(indent) else text.lstrip() for text in lines[i + 1 : end]
        ]
        found.append(
            Block(
                path=path,
                lang=fence.group("info").strip().split(" ")[0].lower(),
                text="\n".join(body),
                start=i + 1,
                content_start=i + 1,
                content_end=end,
                indent=indent,
                directives=pending,
                prose_before=prose,
            )
        )
        pending, prose = {}, False
        i = end + 1
    if pending:
        raise ValueError(f"{path.name}: a docs directive at the end of the file has no block")
    return found


@dataclass
class Command:
    """One ``$ command`` of a console block and the output shown under it."""

    command: str  # as typed, continuation lines joined with newlines
    expected: list[str]


def commands(block: Block) -> list[Command]:
    found: list[Command] = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not (line.startswith("$ ") or line == "$"):
            if found:
                found[-1].expected.append(line)
                i += 1
                continue
            raise ValueError(f"{block.where}: console block text before its first '$ ' command: {line!r}")
        typed = [line[2:]]
        while typed[-1].endswith("\\") and i + 1 < len(lines):
            i += 1
            typed.append(lines[i])
        found.append(Command("\n".join(typed), []))
        i += 1
    for command in found:
        while command.expected and not command.expected[-1].strip():
            command.expected.pop()
    return found
