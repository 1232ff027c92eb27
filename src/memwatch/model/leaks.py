"""The leak engine's verdict: :class:`LeakReport` and its parts.

A report carries its raw per-round readings, so any explanation can be rebuilt
from its JSON (``kind: "leak_report"``). Growth is per *iteration* (one call of the
operation); budgets and severity use the projection per 1,000 operations.

The verdict is decided by :func:`memwatch.leaks.verdict.decide`; the text of a report
(:meth:`LeakReport.summary`, :meth:`LeakReport.explain`) is written by
:mod:`memwatch.reporters.leaks`, loaded when text is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from memwatch.errors import LeakDetected
from memwatch.model.base import Record, register_kind

__all__ = [
    "RESOURCE_KINDS",
    "GrowthEstimate",
    "LeakKind",
    "LeakReport",
    "RetainedSite",
    "RetentionPath",
    "Severity",
    "Survivor",
    "TypeGrowth",
    "Verdict",
    "resource_severity",
    "severity_for",
]

#: ``leak``: growth over the budget, or of file descriptors or threads (fails);
#: ``growth``: growth in bytes within the budget (passes); ``clean``: no signal grew
#: (passes); ``inconclusive``: the measurement could not decide (neither).
Verdict = Literal["leak", "growth", "clean", "inconclusive"]
Severity = Literal["none", "trace", "minor", "major", "critical"]
LeakKind = Literal["python", "native", "fds", "threads", "none"]
Role = Literal["decides", "confirms", "context"]


def severity_for(leak: bool, bytes_per_1000: float, thresholds: dict[str, int]) -> Severity:
    """ "none" without a leak; else the highest threshold reached, "trace" below minor.

    ``thresholds`` are the projected bytes per 1,000 operations from which a leak is
    minor / major / critical (their defaults live in :mod:`memwatch.config.schema`)."""
    if not leak:
        return "none"
    limits = thresholds
    if bytes_per_1000 >= limits["critical"]:
        return "critical"
    if bytes_per_1000 >= limits["major"]:
        return "major"
    if bytes_per_1000 >= limits["minor"]:
        return "minor"
    return "trace"


#: leak kinds counted in operating-system resources, not bytes: no byte budget covers them
RESOURCE_KINDS: tuple[str, ...] = ("fds", "threads")


def resource_severity(per_1000: float) -> Severity:
    """Severity of a file-descriptor or thread leak by how many it keeps per 1,000 calls:
    a process runs out of either long before it runs out of memory."""
    if per_1000 >= 100:
        return "critical"
    if per_1000 >= 10:
        return "major"
    if per_1000 >= 1:
        return "minor"
    return "trace"


@dataclass(frozen=True, eq=False)
class GrowthEstimate(Record):
    """One signal's growth per iteration with its confidence interval.

    ``unit`` is the signal's unit: ``bytes`` or ``count`` (allocated blocks, fds,
    threads). ``samples`` are the raw per-round readings; ``role`` says whether the
    signal may decide a verdict (``decides``), only confirm one (``confirms``: RSS),
    or was measured for context (the tracemalloc window's ``py_heap``). ``note``
    says why it did or did not decide.
    """

    signal: str
    unit: str
    per_iteration: float
    low: float
    high: float
    p_value: float
    shape: str
    significant: bool
    persistent: bool
    role: Role = "decides"
    decided: bool = False
    note: str = ""
    samples: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GrowthEstimate):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def describe(self) -> str:
        """One line: the signal, its growth per call with the interval, shape and p-value."""
        from memwatch.reporters.leaks import describe_estimate

        return describe_estimate(self)


@dataclass(frozen=True)
class RetainedSite(Record):
    """Where memory kept from call to call was allocated, per call (tracemalloc, grouped by traceback)."""

    location: str
    bytes_per_iteration: float
    objects_per_iteration: float
    traceback: tuple[str, ...] = ()


@dataclass(frozen=True)
class TypeGrowth(Record):
    """An object type whose live count (gc-tracked objects) grew during the window."""

    type_name: str
    per_iteration: float
    before: int
    after: int


@dataclass(frozen=True)
class RetentionPath(Record):
    """The shortest chain of references found from a root to a leaked object.

    ``chain`` reads root first, e.g. ``("module app.cache._STORE", "dict['u42']",
    "list[3]", "Session")``. ``internal`` marks roots inside the standard library
    or memwatch itself (shown last).
    """

    target: str
    root_kind: str
    chain: tuple[str, ...]
    internal: bool = False

    def __str__(self) -> str:
        return " -> ".join(self.chain)


@dataclass(frozen=True)
class Survivor(Record):
    """An object expected to be freed that survived a full collection (``expect_freed``)."""

    label: str
    type_name: str
    retention_path: RetentionPath | None = None

    def __str__(self) -> str:
        where = str(self.retention_path) if self.retention_path else "no referrer found"
        return f"{self.label} ({self.type_name}) is still alive: {where}"


@register_kind("leak_report")
@dataclass(frozen=True, eq=False)
class LeakReport(Record):
    """The verdict of :func:`memwatch.leaks.runner.detect_leaks` on one operation."""

    target: str
    verdict: Verdict
    reason: str
    leak_detected: bool
    severity: Severity
    kind: LeakKind
    deciding_signal: str
    signals: tuple[GrowthEstimate, ...]
    bytes_per_iteration: float
    bytes_low: float
    bytes_high: float
    max_growth: int
    iterations: int
    warmup_iterations: int
    rounds: int
    batch_size: int
    duration: float
    seconds_per_call: float
    sites: tuple[RetainedSite, ...] = ()
    types: tuple[TypeGrowth, ...] = ()
    retention_paths: tuple[RetentionPath, ...] = ()
    thresholds: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    attribution_seconds: float = 0.0
    #: ``max_growth`` as the user typed it (``"100 kB"``), shown instead of the bytes
    max_growth_text: str = ""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LeakReport):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    @property
    def growth_per_iteration(self) -> dict[str, GrowthEstimate]:
        """Each measured signal's estimate, by signal name."""
        return {est.signal: est for est in self.signals}

    @property
    def projected_per_1000(self) -> float:
        """Bytes the leak would retain over 1,000 operations (0 without a leak)."""
        return self.bytes_per_iteration * 1000.0 if self.leak_detected else 0.0

    @property
    def leak_severity(self) -> Severity:
        """The seed documents' name for :attr:`severity` (``none``, ``trace``, ``minor``,
        ``major``, ``critical``)."""
        return self.severity

    @property
    def memory_growth_mb(self) -> float:
        """Estimated bytes retained over the measured calls, in MB (10**6 bytes):
        :attr:`bytes_per_iteration` x :attr:`iterations` (0 when no growth in bytes was found)."""
        return self.bytes_per_iteration * self.iterations / 1e6

    @property
    def resources_per_iteration(self) -> float:
        """File descriptors or threads kept per call by a leak of that kind (0 otherwise)."""
        if not self.leak_detected or self.kind not in RESOURCE_KINDS:
            return 0.0
        est = self.growth_per_iteration.get(self.deciding_signal)
        return est.per_iteration if est is not None else 0.0

    @property
    def passed(self) -> bool:
        """True when the verdict is ``clean`` or ``growth`` (growth in bytes within
        ``max_growth`` per 1,000 calls); False for a ``leak`` and for ``inconclusive``."""
        return self.verdict in ("clean", "growth")

    @property
    def failed(self) -> bool:
        """True for a ``leak``: growth over ``max_growth`` per 1,000 calls, or any growth of
        file descriptors or threads. An ``inconclusive`` verdict neither passes nor fails."""
        return self.verdict == "leak"

    @property
    def why_not(self) -> dict[str, str]:
        """For every signal that did not decide: why not."""
        return {est.signal: est.note for est in self.signals if not est.decided}

    def summary(self) -> str:
        """One line: verdict, rate, budget (see :func:`memwatch.reporters.leaks.summary`)."""
        from memwatch.reporters.leaks import summary

        return summary(self)

    def explain(self) -> str:
        """A readable account of the verdict: signals, sites, types, retention paths."""
        from memwatch.reporters.leaks import explain

        return explain(self)

    def raise_for_leaks(self) -> None:
        """Raise :class:`~memwatch.errors.LeakDetected` on a ``leak`` verdict (over the budget,
        or file descriptors or threads); not for growth within it, nor for ``inconclusive``."""
        if self.failed:
            raise LeakDetected(self.explain(), report=self)
