"""Results of garbage-collection monitoring: pauses, frequency, efficiency, latency, reclamation.

A :class:`GCReport` (document kind ``"gc_report"``) carries its raw collections
(:class:`GCEvents`), so every statistic in it can be rebuilt from its JSON.
Times are milliseconds; generation keys are ``"gen0"``, ``"gen1"``, ``"gen2"``
and ``"all"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from memwatch.model.base import Record, register_kind

__all__ = [
    "GCAdvice",
    "GCCheck",
    "GCEvents",
    "GCRecommendation",
    "GCReport",
    "GCValidation",
    "GenerationStats",
    "InterpreterInfo",
    "LatencyImpact",
    "PauseStats",
    "ReclaimSignal",
    "Reclamation",
    "Uncollectable",
]


@dataclass(frozen=True, eq=False)
class GCEvents(Record):
    """One entry per collection, as parallel arrays (the raw data of a report).

    ``start_ms`` is since the monitor started; ``forced`` is 1 for ``gc.collect()``
    (or any collection while automatic collection was disabled), 0 for automatic.
    ``candidates`` and ``freed_bytes`` are NaN where unknown.
    """

    generation: np.ndarray
    start_ms: np.ndarray
    duration_ms: np.ndarray
    collected: np.ndarray
    uncollectable: np.ndarray
    forced: np.ndarray
    young_count: np.ndarray
    candidates: np.ndarray
    freed_bytes: np.ndarray

    def __len__(self) -> int:
        return int(self.generation.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GCEvents):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class PauseStats(Record):
    """Pause times of one generation (or ``"all"``): count, total, mean, percentiles, max
    in ms, and ``share``, the fraction of the monitored wall-clock time spent paused."""

    count: int
    total_ms: float
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    share: float


@dataclass(frozen=True)
class GenerationStats(Record):
    """Collections of one generation: automatic vs forced, objects reclaimed, efficiency.

    ``objects_per_ms`` is collected objects per ms of pause; ``bytes_per_ms`` the
    bytes tracemalloc saw freed per ms of pause (None unless tracemalloc was tracing).
    """

    collections: int
    automatic: int
    forced: int
    collected: int
    uncollectable: int
    objects_per_ms: float
    bytes_per_ms: float | None = None


@dataclass(frozen=True)
class Uncollectable(Record):
    """Objects the collector could not free: the callbacks' count and gc.garbage growth."""

    count: int
    garbage_growth: int
    types: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class InterpreterInfo(Record):
    """The interpreter a report was measured on; GC behaviour differs between versions."""

    version: str
    implementation: str
    full_version: str
    collector: str
    thresholds: tuple[int, ...]
    duration_source: str
    forced_detection: str


@dataclass(frozen=True, eq=False)
class LatencyImpact(Record):
    """Per-call latency of an operation, split by whether a collection overlapped the call."""

    calls: int
    calls_with_gc: int
    calls_without_gc: int
    p50_with_ms: float
    p99_with_ms: float
    p50_without_ms: float
    p99_without_ms: float
    mean_with_ms: float
    mean_without_ms: float
    p50_cost_ms: float
    latencies_ms: np.ndarray
    overlapped: np.ndarray

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LatencyImpact):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class ReclaimSignal(Record):
    """One memory signal around a workload: before, at its peak, after a full collection.

    ``peak_source`` says how the peak was read (``VmHWM``, ``tracemalloc peak`` or
    ``end of workload`` where no peak is kept). ``returned`` is the fraction of the
    growth (peak - before) that came back after the collection; NaN without growth.
    """

    name: str
    unit: str
    before: float
    peak: float
    peak_source: str
    after: float
    returned: float


@register_kind("gc_reclamation")
@dataclass(frozen=True)
class Reclamation(Record):
    """How much of a workload's peak memory came back after a full collection.

    ``rss_after_trim`` is RSS after ``malloc_trim(0)`` (None where not run or not
    glibc); ``remedy`` is non-empty when RSS stayed high while the heaps were empty.
    """

    signals: tuple[ReclaimSignal, ...]
    rss_after_trim: float | None = None
    trim_released: float | None = None
    remedy: str = ""
    unavailable: dict[str, str] = field(default_factory=dict)

    def signal(self, name: str) -> ReclaimSignal:
        for sig in self.signals:
            if sig.name == name:
                return sig
        raise KeyError(f"no signal {name!r}; measured: {[s.name for s in self.signals]}")


@dataclass(frozen=True)
class GCCheck(Record):
    """One threshold check: the measured value, its limit, and whether it passed."""

    name: str
    value: float
    limit: float
    passed: bool
    message: str


@dataclass(frozen=True)
class GCRecommendation(Record):
    """One piece of tuning advice (``action``: freeze, raise_threshold0, avoid_cycles,
    fix_uncollectable, keep) with the measured reason."""

    action: str
    reason: str
    thresholds: tuple[int, ...] | None = None


@dataclass(frozen=True)
class GCAdvice(Record):
    """What :meth:`GCOptimizer.advise` recommends for a report."""

    recommendations: tuple[GCRecommendation, ...]
    thresholds: tuple[int, ...] | None = None
    freeze: bool = False

    def summary(self) -> str:
        from memwatch.reporters.gc import advice_summary

        return advice_summary(self)


@dataclass(frozen=True)
class GCValidation(Record):
    """Checks of a report against thresholds; ``raise_for_failures()`` raises CheckFailed."""

    component: str
    checks: tuple[GCCheck, ...]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def __bool__(self) -> bool:
        """The verdict: ``if validator.validate_gc_efficiency(report):`` is true only when every
        check passed (the seed documents read it as ``is_efficient``)."""
        return self.passed

    @property
    def failures(self) -> tuple[GCCheck, ...]:
        return tuple(check for check in self.checks if not check.passed)

    def raise_for_failures(self) -> None:
        from memwatch.errors import CheckFailed

        if not self.passed:
            raise CheckFailed(
                f"{self.component or 'GC'}: " + "; ".join(check.message for check in self.failures)
            )


@register_kind("gc_report")
@dataclass(frozen=True, eq=False)
class GCReport(Record):
    """Everything a :class:`~memwatch.gcwatch.GCMonitor` measured over one monitored span.

    ``collections`` counts per generation come from ``gc.get_stats()`` (exact even if
    events were dropped); pause statistics come from the recorded events.
    ``promotions`` are survivors moved to an older generation (estimated unless the
    interpreter reports candidates). ``collections_per_operation`` is None unless the
    workload counted operations.
    """

    interpreter: InterpreterInfo
    wall_ms: float
    pauses: dict[str, PauseStats]
    generations: dict[str, GenerationStats]
    collections: int
    automatic: int
    forced: int
    collected: int
    uncollectable: Uncollectable
    promotions: dict[str, int]
    efficiency: float
    efficiency_bytes: float | None
    operations: int
    collections_per_operation: float | None
    events: GCEvents
    tracked_objects: int | None = None
    frozen_objects: int = 0
    dropped_collections: int = 0
    unmatched_events: int = 0
    component: str = ""
    latency: LatencyImpact | None = None
    reclamation: Reclamation | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GCReport):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    @property
    def gc_efficiency_score(self) -> float:
        """The seed documents' score in [0, 1]: the fraction of the monitored wall-clock time
        *not* spent in collection pauses (1.00: the collector cost nothing; 0.90: it took 10%).
        ``efficiency`` (objects reclaimed per ms of pause) says how productive the pauses were."""
        return min(1.0, max(0.0, 1.0 - self.pauses["all"].share))

    def summary(self) -> str:
        """A few lines for people: pauses per generation, frequency, efficiency, latency."""
        from memwatch.reporters.gc import gc_summary

        return gc_summary(self)
