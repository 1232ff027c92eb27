"""Memory pressure stall information (PSI): the share of time tasks stalled on memory.

``some`` is the share of wall time in which at least one task waited for memory,
``full`` the share in which all non-idle tasks did; averaged over 10, 60 and 300 s.
Read from the cgroup's ``memory.pressure`` when there is one, else the system's
``/proc/pressure/memory``. Needs Linux 4.20+ with PSI enabled.

One parser (:func:`parse_psi`) serves the one-off reading (:func:`read_pressure`, every
field) and the guard's repeated one (:class:`PsiFile`, a kept-open file and the avg10
fields only: about 1 µs a read).

PSI triggers (Linux 5.2+, :class:`PsiTrigger`): writing ``"some <stall µs> <window µs>"``
to a pressure file makes ``poll()`` report ``POLLPRI`` when tasks stalled for at least
that long within the window. Unprivileged writers (and, on some kernels, containers
without CAP_SYS_RESOURCE) must use a window that is a multiple of 2 s; the trigger
retries with such a window when the kernel refuses the first. Where the kernel refuses
entirely the trigger says why and the caller polls.
"""

from __future__ import annotations

import os
import select
from dataclasses import dataclass

from memwatch.probes.kept import KeptFile

__all__ = ["Pressure", "PsiFile", "PsiTrigger", "drain", "parse_pressure", "parse_psi", "read_pressure"]


@dataclass(frozen=True)
class Pressure:
    """PSI averages in percent (0-100) and total stall microseconds, or the reason."""

    source: str
    some_avg10: float | None = None
    some_avg60: float | None = None
    some_avg300: float | None = None
    some_total_us: int | None = None
    full_avg10: float | None = None
    full_avg60: float | None = None
    full_avg300: float | None = None
    full_total_us: int | None = None
    reason: str = ""

    @property
    def available(self) -> bool:
        return self.some_avg10 is not None


def parse_psi(data: bytes | str | None, *, avg10_only: bool = False) -> dict[bytes, float]:
    """The ``some ...`` / ``full ...`` lines of a PSI file as ``{b"some_avg10": 1.5, b"full_total": 42.0, ...}``.

    ``avg10_only`` reads just the first field of each line (the repeated reading's path).
    A garbled field is left out; a file with neither line gives ``{}``.
    """
    out: dict[bytes, float] = {}
    if not data:
        return out
    if isinstance(data, str):
        data = data.encode()
    for line in data.splitlines():
        parts = line.split(b" ", 2) if avg10_only else line.split()
        if len(parts) < 2 or parts[0] not in (b"some", b"full"):
            continue
        prefix = parts[0] + b"_"
        for item in parts[1:2] if avg10_only else parts[1:]:
            key, _, raw = item.partition(b"=")
            try:
                out[prefix + key] = float(raw)
            except ValueError:
                continue
    return out


def parse_pressure(text: bytes | str, source: str) -> Pressure:
    """A :class:`Pressure` from the text of a PSI file."""
    values = parse_psi(text)
    if b"some_avg10" not in values:
        return Pressure(source, reason=f"{source}: no 'some' line")
    return Pressure(
        source=source,
        some_avg10=values[b"some_avg10"],
        some_avg60=values.get(b"some_avg60"),
        some_avg300=values.get(b"some_avg300"),
        some_total_us=_i(values.get(b"some_total")),
        full_avg10=values.get(b"full_avg10"),
        full_avg60=values.get(b"full_avg60"),
        full_avg300=values.get(b"full_avg300"),
        full_total_us=_i(values.get(b"full_total")),
    )


def read_pressure(path: str | os.PathLike[str] | None = None) -> Pressure:
    """Read PSI from ``path``, else the cgroup's memory.pressure, else /proc/pressure/memory."""
    candidates: list[str] = []
    if path is not None:
        candidates.append(str(path))
    else:
        from memwatch.probes.cgroup import read_cgroup

        cg = read_cgroup()
        if cg.pressure_file:
            candidates.append(cg.pressure_file)
        candidates.append("/proc/pressure/memory")
    reasons = []
    for candidate in candidates:
        try:
            with open(candidate, "rb") as handle:
                text = handle.read()
        except OSError as exc:
            reasons.append(f"{candidate}: {exc.strerror or exc}")
            continue
        return parse_pressure(text, candidate)
    return Pressure(source=candidates[-1], reason="; ".join(reasons) or "PSI is not available")


def _i(value: float | None) -> int | None:
    return None if value is None else int(value)


class PsiFile:
    """A PSI file kept open for repeated readings of the avg10 fields.

    ``reason`` is non-empty (and :attr:`available` false) where the file cannot be
    opened or has no PSI lines.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._file = KeptFile(path, 256)
        self.reason = self._file.reason
        if self._file.available and self.avg10()[0] is None:
            self.reason = f"{path}: no PSI lines"
            self._file.close()

    @property
    def available(self) -> bool:
        return self._file.available

    def avg10(self) -> tuple[float | None, float | None]:
        """(some avg10, full avg10) in percent; None for a missing line."""
        values = parse_psi(self._file.read(), avg10_only=True)
        return values.get(b"some_avg10"), values.get(b"full_avg10")

    def close(self) -> None:
        self._file.close()


def drain(fd: int) -> None:
    """Read whatever is waiting on a non-blocking pipe (the wake-up pipe of a trigger's poll)."""
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
