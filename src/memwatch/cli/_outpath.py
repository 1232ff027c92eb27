"""Refuse an output path before a long command runs, not after (shared by the commands' options)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from memwatch.errors import UsageError

__all__ = ["check_writable"]


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise :class:`UsageError` unless a file can be written at ``path``.

    The folder must exist and take a new file (tried with a temporary file, removed
    at once: the only test that holds for read-only mounts, /proc and root alike),
    and ``path`` must not be a directory. Nothing is left behind.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise UsageError(f"cannot write {target}: it is a directory")
    if not folder.is_dir():
        raise UsageError(f"cannot write {target}: folder {folder} does not exist")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=folder)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(probe)
