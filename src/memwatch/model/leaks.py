"""The leak engine's verdict: :class:`LeakReport` and its parts.

A report carries its raw per-round readings, so any explanation can be rebuilt
from its JSON (``kind: "leak_report"``). Growth is per *iteration* (one call of the
operation); budgets and severity use the projection per 1,000 operations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from memwatch.errors import LeakDetected
from memwatch.model.base import Record, register_kind
from memwatch.units import format_duration, format_size

__all__ = [
    "RESOURCE_KINDS",
    "AllocationSite",
    "GrowthEstimate",
    "LeakReport",
    "RetentionPath",
    "Survivor",
    "TypeGrowth",
    "resource_severity",
    "severity_for",
]

Verdict = Literal["leak", "clean", "inconclusive"]
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
_RESOURCE_WORDS = {"fds": "file descriptors", "threads": "threads"}


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

    def _fmt(self, value: float) -> str:
        if self.unit == "bytes":
            return format_size(value, signed=True)
        label = {"py_blocks": "blocks", "fds": "fds", "threads": "threads"}.get(self.signal, "")
        return f"{value:+.3g} {label}".rstrip()

    def describe(self) -> str:
        fmt = self._fmt
        return (
            f"{self.signal}: {fmt(self.per_iteration)}/iter "
            f"[{fmt(self.low)} .. {fmt(self.high)}], {self.shape}, p={self.p_value:.2g}"
        )


@dataclass(frozen=True)
class AllocationSite(Record):
    """Where retained memory was allocated (tracemalloc, grouped by traceback)."""

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
    sites: tuple[AllocationSite, ...] = ()
    types: tuple[TypeGrowth, ...] = ()
    retention_paths: tuple[RetentionPath, ...] = ()
    thresholds: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    attribution_seconds: float = 0.0

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
    def resources_per_iteration(self) -> float:
        """File descriptors or threads kept per call by a leak of that kind (0 otherwise)."""
        if not self.leak_detected or self.kind not in RESOURCE_KINDS:
            return 0.0
        est = self.growth_per_iteration.get(self.deciding_signal)
        return est.per_iteration if est is not None else 0.0

    @property
    def passed(self) -> bool:
        """True unless a leak was found whose growth per 1,000 operations exceeds ``max_growth``;
        a leak of file descriptors or threads never passes (``max_growth`` is bytes)."""
        if self.leak_detected and self.kind in RESOURCE_KINDS:
            return False
        return not (self.leak_detected and self.projected_per_1000 > self.max_growth)

    @property
    def why_not(self) -> dict[str, str]:
        """For every signal that did not decide: why not."""
        return {est.signal: est.note for est in self.signals if not est.decided}

    def summary(self) -> str:
        """One line: verdict, rate, budget."""
        if self.verdict == "leak" and self.kind in RESOURCE_KINDS:
            per = self.resources_per_iteration
            return (
                f"LEAK ({self.severity}, {self.kind}) in {self.target}: {per:+.3g} {self.kind}/iter, "
                f"{per * 1000:,.0f} {_RESOURCE_WORDS[self.kind]} per 1,000 calls (never within a "
                f"budget: the process runs out of them)"
            )
        if self.verdict == "leak":
            budget = "over" if not self.passed else "within"
            return (
                f"LEAK ({self.severity}, {self.kind}) in {self.target}: "
                f"{format_size(self.bytes_per_iteration)}/iter, "
                f"{format_size(self.projected_per_1000)} per 1,000 calls "
                f"({budget} the budget of {format_size(self.max_growth)})"
            )
        if self.verdict == "clean":
            return f"no leak in {self.target}: {self.reason}"
        return f"inconclusive for {self.target}: {self.reason}"

    def explain(self) -> str:
        """A readable account of the verdict: signals, sites, types, retention paths."""
        lines = [self.summary()]
        if self.verdict == "leak":
            lines.append(f"  decided by {self.deciding_signal}: {self.reason}")
        lines.append(
            f"  measured {self.iterations:,} calls in {self.rounds} rounds of about "
            f"{self.batch_size:,} after {self.warmup_iterations:,} warm-up calls, "
            f"{format_duration(self.seconds_per_call)}/call, {format_duration(self.duration)} total"
        )
        if self.signals:
            lines.append("  signals:")
        for est in self.signals:
            mark = "*" if est.decided else " "
            lines.append(f"   {mark} {est.describe()}")
            if est.note:
                lines.append(f"       {est.note}")
        if self.sites:
            lines.append("  allocation sites of the retained memory:")
            for site in self.sites:
                lines.append(
                    f"    {site.location}: {format_size(site.bytes_per_iteration)}/iter, "
                    f"{site.objects_per_iteration:.3g} objects/iter"
                )
        if self.types:
            lines.append("  growing types (objects kept per call):")
            lines.extend(
                f"    {t.type_name}: {t.per_iteration:+.3g} ({t.after - t.before:,} kept "
                f"in the survivors window)"
                for t in self.types
            )
        if self.retention_paths:
            lines.append("  kept alive by:")
            lines.extend(
                f"    {path}" + ("  (library-internal)" if path.internal else "")
                for path in self.retention_paths
            )
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def raise_for_leaks(self) -> None:
        """Raise :class:`~memwatch.errors.LeakDetected` when the leak exceeds ``max_growth``."""
        if not self.passed:
            raise LeakDetected(self.explain(), report=self)
