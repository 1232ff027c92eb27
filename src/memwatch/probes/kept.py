"""A kernel file opened once and re-read from offset 0: the cheap path of repeated readings.

``/proc`` and cgroup files are generated on each read, so re-reading an open file
descriptor with ``os.pread`` costs about a microsecond and no Python file object.
"""

from __future__ import annotations

import os

__all__ = ["KeptFile"]


class KeptFile:
    """A file opened once and re-read from offset 0 on demand; None when unreadable."""

    def __init__(self, path: str, size: int = 4096) -> None:
        self.path = path
        self.size = size
        self.reason = ""
        self._fd: int | None = None
        try:
            self._fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            self.reason = f"{path}: {exc.strerror or exc}"

    @property
    def available(self) -> bool:
        return self._fd is not None

    def read(self) -> bytes | None:
        if self._fd is None:
            return None
        try:
            return os.pread(self._fd, self.size, 0)
        except OSError as exc:
            self.reason = f"{self.path}: {exc.strerror or exc}"
            return None

    def read_int(self) -> int | None:
        data = self.read()
        if not data:
            return None
        try:
            return int(data)
        except ValueError:
            return None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass
