"""User paths: refuse an output path before a long command runs, not after, and turn the
operating system's refusal of a path the user gave into one line naming it."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from memwatch.errors import UsageError

__all__ = ["USER_PATH_ERRNOS", "check_writable", "path_error"]

#: errors that say something about the path the user typed, not about memwatch
USER_PATH_ERRNOS = frozenset(
    {
        errno.ENAMETOOLONG,
        errno.EACCES,
        errno.EPERM,
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EROFS,
        errno.ELOOP,
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EEXIST,
        errno.EINVAL,
    }
)


def path_error(exc: OSError, path: str | os.PathLike[str] | None = None, action: str = "use") -> UsageError:
    """A :class:`UsageError` naming the path ``exc`` is about (``path`` when given) and the reason."""
    where = os.fsdecode(path) if path is not None else exc.filename
    if isinstance(where, bytes):
        where = os.fsdecode(where)
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENAMETOOLONG:
        reason = "a name in the path is too long (at most 255 bytes a name)"
    return UsageError(f"cannot {action} {where}: {reason}")


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise :class:`UsageError` unless a file can be written at ``path``.

    The folder must exist and take a new file (tried with a temporary file, removed
    at once: the only test that holds for read-only mounts, /proc and root alike),
    and ``path`` must not be a directory. Nothing is left behind.
    """
    target = Path(path)
    if not str(path):
        raise UsageError("cannot write to an empty path")
    folder = target.parent if str(target.parent) else Path(".")
    try:
        if target.is_dir():
            raise UsageError(f"cannot write {target}: it is a directory")
        if not folder.is_dir():
            raise UsageError(f"cannot write {target}: folder {folder} does not exist")
        if len(os.fsencode(target.name)) > 255:
            raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG), str(target))
        fd, probe = tempfile.mkstemp(prefix=".mw.", suffix=".probe", dir=folder)
    except OSError as exc:
        raise path_error(exc, target, "write") from None
    os.close(fd)
    os.unlink(probe)
