"""Cheap repeated reads of kernel files, and the PSI trigger.

A guard check reads the same few files every 100 ms, so each is opened once and
re-read from offset 0 (a couple of µs for a small file, no Python file object).
The read is ``os.pread``: it releases the GIL around the syscall, but a read of a
kernel-generated file returns in about a microsecond, before a waiting application
thread is even scheduled, so the guard thread takes the GIL straight back (measured:
a whole check in the thread takes ~0.15 ms of wall time while the application
computes; a ``ctypes.PyDLL`` pread that keeps the GIL cost 2 µs more per read and
changed nothing).

PSI triggers (Linux 5.2+): writing ``"some <stall µs> <window µs>"`` to a
pressure file makes ``poll()`` report ``POLLPRI`` when tasks stalled for at least
that long within the window. Unprivileged writers (and, on some kernels,
containers without CAP_SYS_RESOURCE) must use a window that is a multiple of 2 s;
:class:`PsiTrigger` retries with such a window when the kernel refuses the first.
Where the kernel refuses entirely the trigger says why and the guard polls.
"""

from __future__ import annotations

import os
import select

__all__ = ["PsiTrigger", "drain", "parse_keyed", "parse_psi_avg10"]


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

    def __init__(self, path: str, *, kind: str = "some", stall: float = 0.1, window: float = 2.0) -> None:
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
