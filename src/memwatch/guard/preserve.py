"""Preserved buffers: written atomically, checksummed, with memory and files set aside.

``guard.preserve(obj, path)`` registers ``obj`` (bytes, bytearray, memoryview, str,
a JSON-serialisable object, or a zero-argument callable returning one of these)
to be written to ``path`` on emergency shutdown (and on :meth:`Preserver.flush`).

A flush never leaves a torn file: the content goes to a temp file in the same
folder (opened in advance), is fsync'd and renamed over ``path``. The checksum
sidecar ``<path>.sha256`` (``sha256sum`` format) lists the checksums a reader may
accept: before the rename it lists the new *and* the previous checksum, after it
only the new one, so whichever moment the process dies the file on disk is one
complete version whose checksum the sidecar lists (:func:`verify`).

"The previous checksum" is the checksum of the file *on disk*, and only when the
sidecar accepts it: a writer killed between the two renames leaves a sidecar whose
first line names a version that never reached ``path``, so a restarted writer must
not take that line for the previous version (two kills in a row would otherwise
leave a complete file its sidecar rejects). A file the sidecar does not accept is
never made acceptable. tests/integration/test_preserve_faults.py kills the writer
before every write, fsync and rename, restarts it and kills it again, and checks
that the newest complete version is always the one accepted.

Files are created with mode 0o666 less the umask, as any other tool's.

Memory for the flush is reserved in advance: an anonymous mapping of ``reserve``
bytes, every page touched so it is really resident, unmapped just before the
flush so the kernel has that much to give back even at the edge of the limit.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memwatch.errors import DataError, UsageError
from memwatch.model.guard import PreservedFile

__all__ = ["Preserver", "read_preserved", "verify"]

_PAGE = mmap.PAGESIZE


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _render(obj: Any) -> bytes | memoryview:
    value = obj() if callable(obj) else obj
    if isinstance(value, bytearray):
        # a copy: exporting its buffer would make the application's next append raise
        # BufferError while the write runs (the reserve pays for the copy)
        return bytes(value)
    if isinstance(value, bytes | memoryview):
        return memoryview(value).cast("B")
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, sort_keys=True).encode("utf-8")


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _Target:
    """One preserved object and its temp files, opened ahead of the flush."""

    def __init__(self, obj: Any, path: Path) -> None:
        self.obj = obj
        self.path = path
        self.count = 0
        self.data_tmp: tuple[int, Path] | None = None
        self.sum_tmp: tuple[int, Path] | None = None
        self.previous = _accepted_on_disk(path)
        _remove_stale(path)
        self.open_ahead()

    def _tmp(self, suffix: str) -> tuple[int, Path]:
        self.count += 1
        tmp = self.path.with_name(f".{self.path.name}.memwatch-{os.getpid()}-{self.count}{suffix}")
        return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666), tmp

    def open_ahead(self) -> None:
        if self.data_tmp is None:
            self.data_tmp = self._tmp(".tmp")
        if self.sum_tmp is None:
            self.sum_tmp = self._tmp(".sha256.tmp")

    def close(self) -> None:
        for pair in (self.data_tmp, self.sum_tmp):
            if pair is not None:
                os.close(pair[0])
                try:
                    os.unlink(pair[1])
                except OSError:
                    pass
        self.data_tmp = self.sum_tmp = None

    def flush(self, reopen: bool = True) -> PreservedFile:
        self.open_ahead()
        assert self.data_tmp is not None
        assert self.sum_tmp is not None
        data = _render(self.obj)
        digest = hashlib.sha256(data).hexdigest()
        name = self.path.name
        fd, tmp = self.data_tmp
        _write_all(fd, data)
        os.fsync(fd)
        os.close(fd)
        self.data_tmp = None
        lines = f"{digest}  {name}\n" + (f"{self.previous}  {name}\n" if self.previous else "")
        sfd, stmp = self.sum_tmp
        _write_all(sfd, lines.encode())
        os.fsync(sfd)
        os.close(sfd)
        self.sum_tmp = None
        os.replace(stmp, _sidecar(self.path))  # accepts old and new
        _fsync_dir(self.path.parent)  # on disk before the switch, even across a power cut
        os.replace(tmp, self.path)  # the switch
        _fsync_dir(self.path.parent)
        sfd, stmp = self._tmp(".sha256.tmp")
        _write_all(sfd, f"{digest}  {name}\n".encode())
        os.fsync(sfd)
        os.close(sfd)
        os.replace(stmp, _sidecar(self.path))  # accepts only the new one
        _fsync_dir(self.path.parent)
        self.previous = digest
        if reopen:
            self.open_ahead()
        return PreservedFile(str(self.path), digest, len(data), time.time())


class Preserver:
    """The preserved objects of one guard, and the memory reserved for their flush."""

    def __init__(self, reserve: int = 16 << 20) -> None:
        self._targets: list[_Target] = []
        self._lock = threading.Lock()
        self._reserve_size = reserve
        self._reserve: mmap.mmap | None = None

    @property
    def reserved(self) -> int:
        return len(self._reserve) if self._reserve is not None else 0

    def add(self, obj: Any, path: str | os.PathLike[str]) -> None:
        target_path = Path(path).absolute()
        if not target_path.parent.is_dir():
            raise UsageError(f"cannot preserve to {target_path}: folder {target_path.parent} does not exist")
        with self._lock:
            if any(t.path == target_path for t in self._targets):
                raise UsageError(f"{target_path} is already preserved")
            try:
                self._targets.append(_Target(obj, target_path))
            except OSError as exc:
                raise UsageError(f"cannot preserve to {target_path}: {exc.strerror or exc}") from None
        self.hold_reserve()

    def hold_reserve(self) -> None:
        """Map and touch the reserve (again, after an emergency passed)."""
        if self._reserve is not None or self._reserve_size <= 0 or not self._targets:
            return
        try:
            area = mmap.mmap(-1, self._reserve_size)
        except OSError:
            return
        for offset in range(0, self._reserve_size, _PAGE):
            area[offset] = 1
        self._reserve = area

    def release_reserve(self) -> int:
        """Unmap the reserve; returns how many bytes were given back."""
        area, self._reserve = self._reserve, None
        if area is None:
            return 0
        size = len(area)
        area.close()
        return size

    def flush(
        self, on_error: Callable[[str, BaseException], None] | None = None, *, reopen: bool = True
    ) -> list[PreservedFile]:
        """Write every preserved object atomically; errors are reported, not raised.

        ``reopen=False`` (the last flush before exit) opens no temp files for a next one.
        """
        out = []
        with self._lock:
            for target in self._targets:
                try:
                    out.append(target.flush(reopen))
                except Exception as exc:
                    target.close()
                    if on_error is not None:
                        on_error(str(target.path), exc)
                    out.append(
                        PreservedFile(str(target.path), "", 0, time.time(), f"{type(exc).__name__}: {exc}")
                    )
        return out

    def close(self) -> None:
        """Close and delete the temp files opened ahead; release the reserve."""
        with self._lock:
            for target in self._targets:
                target.close()
            self._targets.clear()
        self.release_reserve()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def _remove_stale(path: Path) -> None:
    """Delete temp files a dead process left next to ``path``."""
    for tmp in path.parent.glob(f".{path.name}.memwatch-*"):
        try:
            pid = int(tmp.name[len(path.name) + 11 :].split("-", 1)[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            try:
                tmp.unlink()
            except OSError:
                pass
        except (ValueError, OSError):
            continue


def _accepted_on_disk(path: Path) -> str:
    """The checksum of the file at ``path`` when its sidecar accepts it, else ""."""
    accepted = _accepted(path)
    if not accepted:
        return ""
    try:
        digest = _file_digest(path)
    except OSError:
        return ""
    return digest if digest in accepted else ""


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _accepted(path: Path) -> list[str]:
    try:
        text = _sidecar(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return []
    return [line.split()[0] for line in text.splitlines() if line.strip()]


def verify(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a complete version its ``.sha256`` sidecar accepts."""
    target = Path(path)
    accepted = _accepted(target)
    if not accepted:
        return False
    try:
        digest = _file_digest(target)
    except OSError:
        return False
    return digest in accepted


def read_preserved(path: str | os.PathLike[str]) -> bytes:
    """The content of a preserved file, or :class:`DataError` when it fails its checksum."""
    target = Path(path)
    try:
        data = target.read_bytes()
    except OSError as exc:
        raise DataError(f"{target}: cannot read ({exc.strerror or exc})") from None
    accepted = _accepted(target)
    if not accepted:
        raise DataError(f"{target}: no checksum file {_sidecar(target).name}")
    if hashlib.sha256(data).hexdigest() not in accepted:
        raise DataError(f"{target}: checksum mismatch (not a version memwatch wrote)")
    return data
