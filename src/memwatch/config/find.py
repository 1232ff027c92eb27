"""Finding memwatch's configuration file, without validating it (no pydantic import).

The pytest plugin asks on every run whether the file has a ``pytest`` section; only
then is the file loaded and validated (:func:`memwatch.config.schema.load_config`).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_FILES", "find_config", "has_section"]

DEFAULT_FILES = ("memwatch.yaml", "memwatch.yml", "pyproject.toml")


def _tool_memwatch(path: Path) -> dict[str, object] | None:
    import tomllib  # only where a pyproject.toml exists (pytest may not have loaded it)

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    tool = data.get("tool")
    section = tool.get("memwatch") if isinstance(tool, dict) else None
    return section if isinstance(section, dict) else None


def find_config(start: str | Path = ".") -> Path | None:
    """The first memwatch.yaml / memwatch.yml / pyproject.toml with [tool.memwatch] upwards."""
    folder = Path(start).resolve()
    for candidate in (folder, *folder.parents):
        for name in DEFAULT_FILES:
            path = candidate / name
            if not path.is_file():
                continue
            if name == "pyproject.toml" and _tool_memwatch(path) is None:
                continue
            return path
    return None


def has_section(path: Path, name: str) -> bool:
    """Whether the config file at ``path`` has a top-level section ``name`` (a cheap look:
    TOML is parsed, YAML only scanned for a ``name:`` line at column 0)."""
    if path.suffix == ".toml":
        section = _tool_memwatch(path)
        return section is not None and name in section
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return True  # let the real loader report it
    import re

    return re.search(rf"^{re.escape(name)}\s*:", text, re.MULTILINE) is not None
