"""Cheap repeated reads of kernel files, and the PSI trigger.

A guard check reads the same few files every 100 ms, so each is opened once and
re-read from offset 0 (a couple of µs for a small file, no Python file object).
On glibc the read is ``pread`` called through ``ctypes.PyDLL``, which keeps the
GIL: ``os.pread`` releases and re-takes it, and each time the guard thread wants
it back while the application computes, the application is forced to hand it
over; on a loaded machine every such handoff can wait for the scheduler. Reads of
kernel-generated files never block, so holding the GIL through them is cheap and
a whole check costs the application one handoff instead of one per file.

PSI triggers (Linux 5.2+): writing ``"some <stall µs> <window µs>"`` to a
pressure file makes ``poll()`` report ``POLLPRI`` when tasks stalled for at least
that long within the window. Unprivileged writers (and, on some kernels,
containers without CAP_SYS_RESOURCE) must use a window that is a multiple of 2 s;
:class:`PsiTrigger` retries with such a window when the kernel refuses the first.
Where the kernel refuses entirely the trigger says why and the guard polls.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import sys
from typing import Any

__all__ = ["KeptFile", "PsiTrigger", "drain", "parse_keyed", "parse_psi_avg10"]


def _gil_holding_pread() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.PyDLL(ctypes.util.find_library("c") or "libc.so.6")
        pread = libc.pread
    except (OSError, AttributeError):
        return None
    pread.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long]
    pread.restype = ctypes.c_ssize_t
    return pread


_PREAD = _gil_holding_pread()


class KeptFile:
    """A file opened once and re-read from offset 0 on demand; None when unreadable."""

    def __init__(self, path: str, size: int = 4096) -> None:
        self.path = path
        self.size = size
        self.reason = ""
        self._fd: int | None = None
        self._buffer = ctypes.create_string_buffer(size) if _PREAD is not None else None
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
        if _PREAD is not None and self._buffer is not None:
            count = _PREAD(self._fd, self._buffer, self.size, 0)
            if count >= 0:
                return ctypes.string_at(self._buffer, count)
        try:  # no glibc, or an error: os.pread says what went wrong
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


def parse_keyed(data: bytes | None, keys: frozenset[bytes] | None = None) -> dict[str, int]:
    """``key value`` lines (memory.events, memory.stat) to a dict; only ``keys`` when given."""
    out: dict[str, int] = {}
    if not data:
        return out
    for line in data.splitlines():
        key, _, value = line.partition(b" ")
        if keys is not None and key not in keys:
            continue
        try:
            out[key.decode()] = int(value)
        except ValueError:
            continue
    return out


def parse_psi_avg10(data: bytes | None) -> tuple[float | None, float | None]:
    """(some avg10, full avg10) in percent from a PSI file; None for a missing line."""
    some = full = None
    if not data:
        return None, None
    for line in data.splitlines():
        parts = line.split(b" ", 2)
        if len(parts) < 2 or not parts[1].startswith(b"avg10="):
            continue
        try:
            value = float(parts[1][6:])
        except ValueError:
            continue
        if parts[0] == b"some":
            some = value
        elif parts[0] == b"full":
            full = value
    return some, full


def drain(fd: int) -> None:
    """Read whatever is waiting on a non-blocking pipe."""
    try:
        while os.read(fd, 64):
            pass
    except (BlockingIOError, OSError):
        pass


class PsiTrigger:
    """A PSI trigger on ``path``: ``fd`` becomes readable (POLLPRI) when the stall passes.

    ``stall`` and ``window`` are seconds; ``kind`` is ``some`` or ``full``.
    ``reason`` is non-empty (and ``fd`` None) where the kernel refuses triggers.
    """

    def __init__(self, path: str, *, kind: str = "some", stall: float = 0.1,
                 window: float = 2.0) -> None:
        if kind not in ("some", "full"):
            raise ValueError(f"PSI trigger kind must be 'some' or 'full', got {kind!r}")
        self.path = path
        self.kind = kind
        self.fd: int | None = None
        self.reason = ""
        self.spec = ""
        windows = [window]
        rounded = max(2.0, 2.0 * round(window / 2.0))
        if rounded != window:
            windows.append(rounded)
        for win in windows:
            spec = f"{kind} {round(stall * 1e6)} {round(win * 1e6)}"
            try:
                fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
            except OSError as exc:
                self.reason = f"{path}: {exc.strerror or exc}"
                return
            try:
                os.write(fd, spec.encode() + b"\0")
            except OSError as exc:
                os.close(fd)
                self.reason = f"{path}: trigger {spec!r} refused ({exc.strerror or exc})"
                continue
            self.fd, self.spec, self.reason = fd, spec, ""
            return

    @property
    def available(self) -> bool:
        return self.fd is not None

    def fired(self, timeout: float = 0.0, wake_fd: int | None = None) -> bool:
        """Whether the trigger fired within ``timeout`` seconds.

        ``wake_fd`` (the read end of a pipe) ends the wait early when it becomes
        readable; the byte is consumed and False returned.
        """
        if self.fd is None:
            return False
        poller = select.poll()
        poller.register(self.fd, select.POLLPRI)
        if wake_fd is not None:
            poller.register(wake_fd, select.POLLIN)
        fired = False
        for fd, revents in poller.poll(max(0, int(timeout * 1000))):
            if fd == wake_fd:
                drain(wake_fd)
            elif revents & (select.POLLERR | select.POLLNVAL | select.POLLHUP):
                # the group went away or triggers stopped working: never spin on it
                self.close()
                self.reason = f"{self.path}: poll reported an error; polling instead"
                return False
            elif revents & select.POLLPRI:
                fired = True
        return fired

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass
