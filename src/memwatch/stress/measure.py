"""Child-side readings: snapshots of memory and the peak sampler's thread between them.

Runs inside the capped child, so it stays on the standard library and the cheap
probes (no numpy). Signals, in bytes: ``rss`` (resident set), ``vms`` (virtual size), ``heap`` (bytes
traced by tracemalloc while it traces, else NaN), ``native`` (glibc in-use bytes,
``mallinfo2`` uordblks + hblkhd) and ``native_free`` (free bytes glibc keeps in its
arenas, its own fragmentation figure).
"""

from __future__ import annotations

import math
import time
import tracemalloc
from collections.abc import Callable
from types import TracebackType
from typing import Any

from memwatch.probes import native, process
from memwatch.sampling.peak import PeakSampler as _Sampler

__all__ = ["PeakSampler", "clock", "snapshot", "touch"]

_T0 = time.monotonic()
NAN = math.nan
PAGE = 4096


def clock() -> float:
    """Seconds since this module was loaded (the child's start)."""
    return time.monotonic() - _T0


def touch(buffer: bytearray) -> bytearray:
    """Write one byte per page so the buffer is resident, not just reserved."""
    count = len(range(0, len(buffer), PAGE))
    if count:
        buffer[::PAGE] = b"\x01" * count
    return buffer


def snapshot(label: str = "") -> dict[str, Any]:
    """One reading of every signal, as a JSON-ready dict."""
    info = native.mallinfo()
    heap = float(tracemalloc.get_traced_memory()[0]) if tracemalloc.is_tracing() else NAN
    return {
        "t": clock(),
        "rss": float(process.rss()),
        "vms": float(process.vms()),
        "heap": heap,
        "native": float(info.in_use) if info is not None else NAN,
        "native_free": float(info.free) if info is not None else NAN,
        "label": label,
    }


class PeakSampler:
    """The stress tasks' view of :class:`memwatch.sampling.peak.PeakSampler`: RSS and the
    native heap every ``interval`` seconds, their peaks as ``rss_peak`` and ``native_peak``.

    ``on_sample`` (optional) receives a :func:`snapshot` every ``emit_every`` readings, so
    a long run reports as it goes. Used as a context manager.
    """

    def __init__(
        self,
        interval: float = 0.002,
        *,
        on_sample: Callable[[dict[str, Any]], None] | None = None,
        emit_every: int = 1,
    ) -> None:
        readers: dict[str, Callable[[], float]] = {"rss": process.rss}
        if native.mallinfo() is not None:
            readers["native"] = _native_in_use
        self.on_sample = on_sample
        self._sampler = _Sampler(
            readers,
            interval,
            on_sample=None if on_sample is None else self._emit,
            every=emit_every,
            name="memwatch-stress-sampler",
        )

    def _emit(self, values: dict[str, float]) -> None:
        assert self.on_sample is not None
        self.on_sample(snapshot("sample"))

    @property
    def rss_peak(self) -> float:
        return float(self._sampler.peaks.get("rss", 0.0))

    @property
    def native_peak(self) -> float:
        return float(self._sampler.peaks.get("native", 0.0))

    @property
    def readings(self) -> int:
        return self._sampler.readings

    def __enter__(self) -> PeakSampler:
        self._sampler.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._sampler.stop()


def _native_in_use() -> float:
    info = native.mallinfo()
    return float(info.in_use) if info is not None else 0.0
