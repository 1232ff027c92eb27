"""Results of the runtime guard: readings, alerts, ladder actions, OOM events, the report.

Sizes are bytes; times are seconds of the guard's clock (``time.monotonic`` unless
a test injects another) except ``GuardReport.started_at``, a Unix time. These
records import nothing heavy (no numpy), so the guard stays light.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from memwatch.model.base import Record, register_kind

__all__ = [
    "ActionOutcome",
    "GuardAlert",
    "GuardReport",
    "GuardSample",
    "OomEvent",
    "PreservedFile",
]


@dataclass(frozen=True)
class GuardSample(Record):
    """One reading of the memory source.

    ``usage`` is compared with ``budget``: the cgroup working set against a cgroup
    limit, the process RSS against host memory, VMS/data size against an rlimit
    (``usage_source`` names which). ``budget_source`` says what set the budget
    (``cgroup.v2.max``, ``cgroup.v2.high``, ``rlimit``, ``host``, ``configured``).
    PSI values are percentages (0-100) or None where PSI cannot be read.
    ``events`` holds the increase of ``memory.events`` counters since the last reading.
    """

    time: float
    usage: int
    budget: int
    usage_source: str
    budget_source: str
    psi_some_avg10: float | None = None
    psi_full_avg10: float | None = None
    events: dict[str, int] = field(default_factory=dict)
    gpu_used: int | None = None
    gpu_total: int | None = None

    @property
    def fraction(self) -> float:
        """Usage as a share of the budget (may exceed 1 past the limit)."""
        return self.usage / self.budget if self.budget > 0 else 0.0

    @property
    def gpu_fraction(self) -> float | None:
        if self.gpu_used is None or not self.gpu_total:
            return None
        return self.gpu_used / self.gpu_total


@dataclass(frozen=True)
class GuardAlert(Record):
    """A change of level, with the reading that caused it and the reason in words."""

    time: float
    level: str
    previous: str
    reason: str
    sample: GuardSample


@dataclass(frozen=True)
class ActionOutcome(Record):
    """One run of a recovery strategy: usage before and after, or the error it raised."""

    time: float
    name: str
    level: str
    usage_before: int
    usage_after: int
    duration: float
    error: str = ""

    @property
    def freed(self) -> int:
        return self.usage_before - self.usage_after


@dataclass(frozen=True)
class OomEvent(Record):
    """An out-of-memory error caught by ``oom_protected`` and what was done about it.

    ``attempt`` is the option that failed (0 = the primary call, k = fallback k);
    ``kind`` is ``host``, ``gpu`` or ``device`` (a CUDA error that is not out of memory);
    ``action`` is ``retry`` (the next option is tried), ``reset`` (the device was
    recovered and the same option is tried again), ``sticky`` (later calls start at a
    fallback), ``recovered`` (a probe of the better option succeeded), or ``exhausted``
    (no option left; the error is raised).
    """

    time: float
    function: str
    kind: str
    error_type: str
    message: str
    attempt: int
    action: str
    option: str = ""


@dataclass(frozen=True)
class PreservedFile(Record):
    """A preserved buffer written on flush: its checksum, size, or the error."""

    path: str
    sha256: str
    size: int
    time: float
    error: str = ""


@register_kind("guard_report")
@dataclass(frozen=True)
class GuardReport(Record):
    """What a guard saw and did: budget, alerts, actions, flushes and its metrics."""

    started_at: float
    budget: int
    budget_source: str
    budget_detail: str
    usage_source: str
    level: str
    alerts: tuple[GuardAlert, ...] = ()
    actions: tuple[ActionOutcome, ...] = ()
    preserved: tuple[PreservedFile, ...] = ()
    counters: dict[str, float] = field(default_factory=dict)
    gauges: dict[str, float] = field(default_factory=dict)
