"""Child-side readings: snapshots of memory and a thread that tracks peaks between them.

Runs inside the capped child, so it stays on the standard library and the cheap
probes (no numpy). Signals, in bytes: ``rss`` (resident set), ``heap`` (bytes
traced by tracemalloc while it traces, else NaN), ``native`` (glibc in-use bytes,
``mallinfo2`` uordblks + hblkhd) and ``native_free`` (free bytes glibc keeps in its
arenas, its own fragmentation figure).
"""

from __future__ import annotations

import math
import threading
import time
import tracemalloc
from collections.abc import Callable
from types import TracebackType
from typing import Any

from memwatch.probes import native, process

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
        "heap": heap,
        "native": float(info.in_use) if info is not None else NAN,
        "native_free": float(info.free) if info is not None else NAN,
        "label": label,
    }


class PeakSampler:
    """A thread that reads RSS and the native heap every ``interval`` seconds and keeps the peaks.

    ``on_sample`` (optional) receives a snapshot every ``emit_every`` readings, so a
    long run reports as it goes. Used as a context manager.
    """

    def __init__(
        self,
        interval: float = 0.002,
        *,
        on_sample: Callable[[dict[str, Any]], None] | None = None,
        emit_every: int = 1,
    ) -> None:
        self.interval = interval
        self.on_sample = on_sample
        self.emit_every = max(1, emit_every)
        self.rss_peak = 0.0
        self.native_peak = 0.0
        self.readings = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memwatch-stress-sampler", daemon=True)

    def _read(self) -> None:
        self.rss_peak = max(self.rss_peak, float(process.rss()))
        info = native.mallinfo()
        if info is not None:
            self.native_peak = max(self.native_peak, float(info.in_use))
        self.readings += 1
        if self.on_sample is not None and self.readings % self.emit_every == 0:
            self.on_sample(snapshot("sample"))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._read()
            except MemoryError:  # at the cap: skip this reading, the next may fit
                pass
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakSampler:
        self._read()
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        try:
            self._read()
        except MemoryError:
            pass
