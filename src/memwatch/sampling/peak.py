"""The peak sampler: a thread that keeps the highest value of some readings until stopped.

For a peak between two readings that nothing else records: the RSS of a test body where
the kernel's high-water mark cannot be reset, the glibc heap (which has no high-water
mark), the RSS and native heap of a stress child. The thread waits on
``Event.wait(interval)``, so :meth:`PeakSampler.stop` ends it at once, and reads each
reader after every wait; a peak shorter than the interval can be missed. A reading that
raises ``MemoryError`` (a process at its memory cap) is skipped: the next one may fit.

Standard library only: the pytest plugin and the capped stress child use it, where numpy
is not loaded. The timeline sampler (:mod:`memwatch.sampling.sampler`) keeps every
sample on a schedule and its exact peaks as well; this one keeps only the maxima.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from types import TracebackType

__all__ = ["PeakSampler"]


class PeakSampler:
    """Reads ``readers`` every ``interval`` seconds in a daemon thread and keeps each one's maximum.

    The first reading is taken when the sampler starts and the last when it stops, so
    ``peaks`` covers both ends. ``on_sample`` (optional) is called in the thread with
    the values of every ``every``-th reading. Start with :meth:`start` (or ``with``);
    :meth:`stop` returns ``peaks``.
    """

    def __init__(
        self,
        readers: Mapping[str, Callable[[], float]],
        interval: float = 0.001,
        *,
        on_sample: Callable[[dict[str, float]], None] | None = None,
        every: int = 1,
        name: str = "memwatch-peak",
    ) -> None:
        self._readers = tuple(readers.items())
        self.interval = interval
        self.on_sample = on_sample
        self.every = max(1, every)
        self.peaks: dict[str, float] = {}
        self.readings = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def read(self) -> None:
        """Take one reading now and raise the peaks it passes."""
        peaks = self.peaks
        values = {}
        for name, read in self._readers:
            value = read()
            values[name] = value
            if name not in peaks or value > peaks[name]:
                peaks[name] = value
        self.readings += 1
        if self.on_sample is not None and self.readings % self.every == 0:
            self.on_sample(values)

    def _read_unless_full(self) -> None:
        try:
            self.read()
        except MemoryError:  # at the cap: skip this reading, the next may fit
            pass

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._read_unless_full()

    def start(self) -> PeakSampler:
        self.read()
        self._thread.start()
        return self

    def stop(self) -> dict[str, float]:
        """Stop the thread, take a last reading, and return the peaks."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._read_unless_full()
        return self.peaks

    def __enter__(self) -> PeakSampler:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
