"""Finding memwatch's configuration file, without validating it (no pydantic import).

The pytest plugin asks on every run whether the file has a ``pytest`` section; only
then is the file loaded and validated (:func:`memwatch.config.schema.load_config`).
"""

from __future__ import annotations

import errno
import re
from pathlib import Path
from typing import Any

from memwatch.errors import ConfigError

__all__ = ["DEFAULT_FILES", "find_config", "has_section", "read_config_text", "tool_memwatch"]

DEFAULT_FILES = ("memwatch.yaml", "memwatch.yml", "pyproject.toml")


def tool_memwatch(path: Path, text: str | None = None) -> dict[str, Any] | None:
    """``[tool.memwatch]`` of a pyproject.toml (None: no such table).

    A file that cannot be read or parsed is a :class:`ConfigError` naming the file and the
    line, never skipped: skipping it would silently drop the budgets it holds."""
    import tomllib  # only where a pyproject.toml exists (pytest may not have loaded it)

    if text is None:
        text = read_config_text(path)
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply (a config is a few levels deep)") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\s*\(at line (\d+), column \d+\)$", message)
        where = f"{path}:{found.group(1)}" if found else str(path)
        if found:
            message = message[: found.start()]
        raise ConfigError(f"{where}: invalid TOML: {message}") from None
    tool = data.get("tool")
    section = tool.get("memwatch") if isinstance(tool, dict) else None
    return section if isinstance(section, dict) else None


def read_config_text(path: Path) -> str:
    """The text of a config file; :class:`ConfigError` naming the file when it cannot be
    read or is not UTF-8 text (a binary file, a file saved in another encoding)."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "save the config file as UTF-8"
        ) from None
    except OSError as exc:
        reason = "a name in the path is too long" if exc.errno == errno.ENAMETOOLONG else exc.strerror or exc
        raise ConfigError(f"{path}: cannot read the config file: {reason}") from None


def find_config(start: str | Path = ".") -> Path | None:
    """The first memwatch.yaml / memwatch.yml / pyproject.toml with [tool.memwatch] upwards."""
    folder = Path(start).resolve()
    for candidate in (folder, *folder.parents):
        for name in DEFAULT_FILES:
            path = candidate / name
            if not path.is_file():
                continue
            if name == "pyproject.toml" and tool_memwatch(path) is None:
                continue
            return path
    return None


def has_section(path: Path, name: str) -> bool:
    """Whether the config file at ``path`` has a top-level section ``name`` (a cheap look:
    TOML is parsed, YAML only scanned for a ``name:`` line at column 0)."""
    if path.suffix == ".toml":
        section = tool_memwatch(path)
        return section is not None and name in section
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return True  # let the real loader report it
    return re.search(rf"^{re.escape(name)}\s*:", text, re.MULTILINE) is not None
