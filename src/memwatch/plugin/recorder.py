"""Measure one test body, and collect the per-test records of a session.

Peak RSS without a thread where Linux allows: VmHWM is reset through
``/proc/self/clear_refs`` just before the body and read just after it, so the peak
covers exactly the body (Python, native and mapped memory alike). Where the reset is
refused, and for the glibc heap (which has no high-water mark), a thread samples every
millisecond: a peak shorter than that can be missed. tracemalloc runs only when asked.

Records travel from xdist workers to the controller as an attribute of the teardown
phase's test report (:data:`REPORT_ATTR`, a JSON-able dict); only the controller
(or a run without xdist) keeps them, keyed by node id so none is counted twice.
A test measured in this process is kept as its raw figures and becomes an
:class:`~memwatch.model.pytest.ItemRecord` only when something asks for it: a
``--memwatch`` run that writes no report builds just the rows its summary shows.
"""

from __future__ import annotations

import gc
import heapq
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from memwatch.probes.hwm import HighWaterMark
from memwatch.probes.statm import rss

if TYPE_CHECKING:
    import tracemalloc

    from memwatch.model.pytest import AllocationSite, CheckOutcome, ItemRecord
    from memwatch.plugin.keys import ItemState
    from memwatch.sampling.peak import PeakSampler

__all__ = [
    "REPORT_ATTR",
    "BodyFigures",
    "BodyMeter",
    "RecordNotSent",
    "SessionRecords",
    "plain",
    "record_from_report",
    "sendable_record",
]

REPORT_ATTR = "memwatch_record"
_SAMPLE_INTERVAL = 0.001
_TOP_SITES = 5
_MAX_SNAPSHOTS = 20


@dataclass(slots=True)  # built once per test: not frozen, whose __init__ costs 5x more
class BodyFigures:
    """What :class:`BodyMeter` measured; bytes are relative to the start of the body."""

    duration: float
    start_rss: int
    peak: int
    growth: int
    peak_source: str
    native_peak: int | None = None
    python_peak: int | None = None
    sites: tuple[AllocationSite, ...] = ()

    def record(self, nodeid: str, outcome: str, state: ItemState | None, worker: str) -> ItemRecord:
        """The record of the test these figures belong to."""
        from memwatch.model.pytest import ItemRecord

        return ItemRecord(
            nodeid=nodeid,
            outcome=outcome,
            duration=self.duration,
            start_rss=self.start_rss,
            peak=self.peak,
            growth=self.growth,
            peak_source=self.peak_source,
            native_peak=self.native_peak,
            python_peak=self.python_peak,
            markers=state.markers if state is not None else (),
            checks=state.outcomes if state is not None else (),
            sites=self.sites,
            worker=worker,
            profile=state.profile if state is not None else None,
        )


def _native_reason() -> str:
    from memwatch.probes.native import native_reason

    return native_reason()


def _traced() -> float:
    import tracemalloc

    return float(tracemalloc.get_traced_memory()[0])


class _PeakSnapshots:
    """A thread that snapshots tracemalloc each time the traced heap reaches a new high.

    A new snapshot is taken when the traced memory exceeds the last snapshot's level
    by 10 % (and by 256 KiB), at most :data:`_MAX_SNAPSHOTS` times, so the last one
    shows the allocation sites live near the peak (within a thread switch; the switch
    interval is lowered to 1 ms meanwhile). The thread is a :class:`PeakSampler` of the
    traced memory that calls :meth:`check` after each reading.
    """

    def __init__(self, start: int) -> None:
        from memwatch.sampling.peak import PeakSampler

        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch, _SAMPLE_INTERVAL))  # let the thread in often
        self.level = start
        self.snapshot: tracemalloc.Snapshot | None = None
        self.taken = 0
        self._sampler = PeakSampler(
            {"traced": _traced}, _SAMPLE_INTERVAL, on_sample=self._on_sample, name="memwatch-snapshots"
        ).start()

    def _on_sample(self, values: dict[str, float]) -> None:
        if self.taken < _MAX_SNAPSHOTS:
            self.check()

    def check(self) -> None:
        import tracemalloc

        if not tracemalloc.is_tracing():
            return
        current = tracemalloc.get_traced_memory()[0]
        if current > self.level * 1.1 and current - self.level > 256 * 1024:
            self.snapshot = tracemalloc.take_snapshot()
            self.level = current
            self.taken += 1

    def stop(self) -> tracemalloc.Snapshot | None:
        self._sampler.stop()
        sys.setswitchinterval(self._switch)
        self.check()
        return self.snapshot


class BodyMeter:
    """Measures one test body: ``start()`` right before it, ``stop()`` right after.

    ``native`` samples the glibc heap (for ``limit_native_memory``); ``python``
    uses tracemalloc for the Python heap's peak and, with ``sites``, the allocation
    sites that grew during the body. ``settle`` (for tests with a limit or a baseline)
    collects garbage and returns free heap memory to the OS (``malloc_trim``) first: memory
    the allocator kept from earlier tests would otherwise be reused without raising
    RSS, and the body's peak would read too low. ``trim`` (implied by ``settle``; the
    session-wide gate sets it alone, without the collection, which costs milliseconds in a
    big process) returns free heap memory at the start (a few µs), and at the end when the
    RSS is above the start's, then reads the RSS again: what the body freed but the
    allocator kept does not count as growth.
    """

    _hwm: HighWaterMark | None = None
    #: tracemalloc was started by a meter (and is left on between tests: see :meth:`release`)
    started_tracemalloc = False

    def __init__(
        self,
        *,
        native: bool = False,
        python: bool = False,
        sites: bool = False,
        settle: bool = False,
        trim: bool = False,
    ) -> None:
        self.native = native and not _native_reason()
        self.settle = settle
        self.trim = trim or settle
        self.python = python
        self.sites = sites and python
        self._mark = self.hwm()
        #: only the kernel's mark to read: the path of every test under ``--memwatch``
        self._plain = self._mark.works and not (self.native or self.settle or self.python)
        self._sampler: PeakSampler | None = None
        self._snapshot: tracemalloc.Snapshot | None = None
        self._peaks: _PeakSnapshots | None = None
        self._py_start = 0
        self._start_native = 0
        self._start = 0.0
        self._start_rss = 0

    @classmethod
    def hwm(cls) -> HighWaterMark:
        if cls._hwm is None:
            cls._hwm = HighWaterMark()
        return cls._hwm

    @classmethod
    def hwm_works(cls) -> bool:
        return cls.hwm().works

    @classmethod
    def release(cls) -> None:
        """Stop tracemalloc if a meter started it: the process gets back the state it had."""
        if cls.started_tracemalloc:
            import tracemalloc

            tracemalloc.stop()
            cls.started_tracemalloc = False

    def start(self) -> None:
        """Begin a measurement (a meter can be started again once stopped)."""
        if self.trim:  # a few µs: memory the allocator kept would be reused without raising RSS
            from memwatch.probes.native import malloc_trim

            if self.settle:
                gc.collect()
            malloc_trim(0)
        if self._plain:
            mark = self._mark
            self._start_rss = start_rss = mark.rss()
            mark.reset(start_rss)
            self._start = perf_counter()
            return
        if self.python:
            import tracemalloc

            if not tracemalloc.is_tracing():
                tracemalloc.start()
                BodyMeter.started_tracemalloc = True
            if self.sites:
                self._snapshot = tracemalloc.take_snapshot()
            tracemalloc.reset_peak()
            self._py_start = tracemalloc.get_traced_memory()[0]
            if self.sites:
                self._peaks = _PeakSnapshots(self._py_start)
        readers: dict[str, Callable[[], float]] = {}
        if not self._mark.works:
            readers["rss"] = rss
        if self.native:
            from memwatch.probes.native import native_heap_bytes

            self._start_native = native_heap_bytes()
            readers["native"] = native_heap_bytes
        self._sampler = None
        if readers:
            from memwatch.sampling.peak import PeakSampler

            self._sampler = PeakSampler(readers, _SAMPLE_INTERVAL).start()
        self._start_rss = rss()
        if "rss" not in readers:
            self._mark.reset(self._start_rss)
        self._start = perf_counter()

    def stop(self) -> BodyFigures:
        duration = perf_counter() - self._start
        start_rss = self._start_rss
        if self._plain:
            mark = self._mark
            end_rss = mark.rss()
            if self.trim and end_rss > start_rss:
                end_rss = _trimmed(mark.rss)
            peak_abs = mark.peak()
            return BodyFigures(
                duration, start_rss, max(0, max(peak_abs, end_rss) - start_rss), end_rss - start_rss, "VmHWM"
            )
        peaks = self._sampler.stop() if self._sampler is not None else {}
        end_rss = rss()
        if self.trim and end_rss > start_rss:
            end_rss = _trimmed(rss)
        if "rss" in peaks:
            peak_abs, source = max(int(peaks["rss"]), end_rss), "sampler"
        else:
            peak_abs, source = max(self._mark.peak(), end_rss), "VmHWM"
        python_peak = None
        sites: tuple[AllocationSite, ...] = ()
        if self.python:
            import tracemalloc

            if tracemalloc.is_tracing():
                python_peak = max(0, tracemalloc.get_traced_memory()[1] - self._py_start)
                high = self._peaks.stop() if self._peaks is not None else None
                if self._snapshot is not None:
                    sites = _grown_sites(self._snapshot, high or tracemalloc.take_snapshot())
        native_peak = None
        if "native" in peaks:
            from memwatch.probes.native import native_heap_bytes

            native_peak = max(0, max(int(peaks["native"]), native_heap_bytes()) - self._start_native)
        return BodyFigures(
            duration=duration,
            start_rss=start_rss,
            peak=max(0, peak_abs - start_rss),
            growth=end_rss - start_rss,
            peak_source=source,
            native_peak=native_peak,
            python_peak=python_peak,
            sites=sites,
        )


def _grown_sites(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot) -> tuple[AllocationSite, ...]:
    import tracemalloc

    from memwatch.model.pytest import AllocationSite

    skip = (tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__))
    diff = after.filter_traces(skip).compare_to(before.filter_traces(skip), "lineno")
    out = []
    for stat in diff[:_TOP_SITES]:
        if stat.size_diff <= 0:
            break
        frame = stat.traceback[0]
        out.append(AllocationSite(f"{frame.filename}:{frame.lineno}", stat.size_diff, stat.count_diff))
    return tuple(out)


class RecordNotSent(UserWarning):
    """A test's record could not travel from a worker to the controller (it is left out)."""


_PLAIN_TYPES = (str, int, float, bool, bytes, type(None))


def plain(value: Any, where: str = "record") -> Any:
    """``value`` with only the types xdist's channel (execnet) sends: str, int, float, bool,
    bytes, None, lists and dicts with str keys.

    An int, float or str subclass (an ``IntEnum``, :class:`~memwatch.units.Size`), an enum
    member and a numpy scalar become the plain value; a tuple becomes a list. Anything else
    raises ``TypeError`` naming ``where`` (the path to the value) and its type.
    """
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return value
    if isinstance(value, dict):
        return {str(plain(k, where)): plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    import enum

    if isinstance(value, enum.Enum):
        return plain(value.value, where)
    if isinstance(value, bool | int):
        return bool(value) if isinstance(value, bool) else int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes):
        return bytes(value)
    np = sys.modules.get("numpy")  # a numpy scalar exists only once numpy is imported
    if np is not None and isinstance(value, np.generic):
        item = value.item()
        if type(item) in _PLAIN_TYPES:
            return item
    raise TypeError(f"{where} holds a {kind.__module__}.{kind.__qualname__}, which cannot be sent")


def sendable_record(data: dict[str, Any], nodeid: str, worker: str) -> dict[str, Any] | None:
    """A record's dict as plain types for the worker -> controller channel, or None after a
    :class:`RecordNotSent` warning saying which value could not be sent."""
    try:
        return plain(data)  # type: ignore[no-any-return]
    except (TypeError, ValueError, OverflowError) as exc:
        text = f"memwatch: the record of {nodeid} is left out of the report ({worker or 'worker'}): {exc}"
        try:
            import warnings

            warnings.warn(text, RecordNotSent, stacklevel=2)
        except Warning:  # warnings turned into errors must not stop the worker
            sys.stderr.write(text + "\n")
        return None


def record_from_report(report: pytest.TestReport) -> ItemRecord | None:
    """The record a (possibly remote) teardown report carries, or None."""
    data = getattr(report, REPORT_ATTR, None)
    if not isinstance(data, dict):
        return None
    from memwatch.model.pytest import ItemRecord

    return ItemRecord.from_dict(data)


class SummaryRow(Protocol):
    """What the terminal summary shows of a test: an ItemRecord, or a test measured here."""

    @property
    def nodeid(self) -> str: ...
    @property
    def peak(self) -> int | None: ...
    @property
    def growth(self) -> int | None: ...
    @property
    def duration(self) -> float: ...
    @property
    def checks(self) -> tuple[CheckOutcome, ...]: ...


class _Measured:
    """A test measured in this process, not yet made into its record (a :class:`SummaryRow`)."""

    __slots__ = ("figures", "nodeid", "outcome", "record", "state", "worker")

    def __init__(
        self, nodeid: str, outcome: str, figures: BodyFigures, state: ItemState | None, worker: str
    ) -> None:
        self.nodeid = nodeid
        self.outcome = outcome
        self.figures = figures
        self.state = state
        self.worker = worker
        self.record: ItemRecord | None = None

    @property
    def peak(self) -> int:
        return self.figures.peak

    @property
    def growth(self) -> int:
        return self.figures.growth

    @property
    def duration(self) -> float:
        return self.figures.duration

    @property
    def checks(self) -> tuple[CheckOutcome, ...]:
        return self.state.outcomes if self.state is not None else ()

    def build(self) -> ItemRecord:
        if self.record is None:
            self.record = self.figures.record(self.nodeid, self.outcome, self.state, self.worker)
        return self.record


def _record(entry: ItemRecord | _Measured) -> ItemRecord:
    return entry.build() if isinstance(entry, _Measured) else entry


class SessionRecords:
    """The records of one session, by node id; a re-run test replaces its earlier record."""

    def __init__(self) -> None:
        self._entries: dict[str, ItemRecord | _Measured] = {}

    def add(self, record: ItemRecord) -> None:
        """A record built elsewhere (an xdist worker, an isolated child)."""
        self._entries.pop(record.nodeid, None)
        self._entries[record.nodeid] = record

    def add_measured(
        self, nodeid: str, outcome: str, figures: BodyFigures, state: ItemState | None, worker: str
    ) -> None:
        """A test measured in this process (its record is built on demand)."""
        self._entries.pop(nodeid, None)
        self._entries[nodeid] = _Measured(nodeid, outcome, figures, state, worker)

    def __len__(self) -> int:
        return len(self._entries)

    def records(self) -> tuple[ItemRecord, ...]:
        """Every record, in the order the tests finished."""
        return tuple(_record(entry) for entry in self._entries.values())

    def biggest(self, count: int) -> list[SummaryRow]:
        """The ``count`` tests with the highest peaks (ties by node id)."""
        return heapq.nsmallest(count, self._entries.values(), key=lambda e: (-(e.peak or 0), e.nodeid))

    def checked(self) -> list[SummaryRow]:
        """The tests that had a check, in the order they finished."""
        return [entry for entry in self._entries.values() if entry.checks]

    def failed(self) -> int:
        """How many tests failed a memory check."""
        return sum(1 for entry in self._entries.values() if any(not c.passed for c in entry.checks))

    def peak_source(self) -> str:
        """How the peaks were measured (of the first record)."""
        for entry in self._entries.values():
            return entry.figures.peak_source if isinstance(entry, _Measured) else entry.peak_source
        return ""

    @staticmethod
    def worker_id(config: pytest.Config) -> str:
        workerinput: Any = getattr(config, "workerinput", None)
        if isinstance(workerinput, dict):
            return str(workerinput.get("workerid", ""))
        return os.environ.get("PYTEST_XDIST_WORKER", "")


def _trimmed(read: Callable[[], int]) -> int:
    """The RSS after returning the allocator's free memory to the system (``malloc_trim``)."""
    from memwatch.probes.native import malloc_trim

    malloc_trim(0)
    return read()
