"""Results of stress scenarios run in a memory-capped child process.

A :class:`StressReport` (document kind ``stress_report``) holds one
:class:`ScenarioResult` per scenario run. Each scenario result carries its
verdicts (:class:`StressCheck`), its figures (``metrics``), the raw samples the
child reported (:class:`StressSample`), the bisection trials of a ramp
(:class:`LoadTrial`) and how each child ended (:class:`ChildOutcome`), so any
report can be rebuilt from the JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal

from memwatch.model.base import Record, register_kind

__all__ = [
    "CheckStatus",
    "ChildOutcome",
    "LoadTrial",
    "PressureCycle",
    "PressureTestResult",
    "ScenarioName",
    "ScenarioResult",
    "StressCheck",
    "StressReport",
    "StressSample",
]

ScenarioName = Literal["ramp", "spike", "fragmentation", "concurrent", "soak", "pressure", "harness"]
CheckStatus = Literal["pass", "fail", "inconclusive", "not-judged"]
ExitKind = Literal["exited", "signal", "timeout", "failed-to-start"]


@dataclass(frozen=True)
class ChildOutcome(Record):
    """How one capped child ended.

    ``exit`` is ``"exited"`` (see ``exit_code``), ``"signal"`` (see ``signal``),
    ``"timeout"`` (it ran past its time and was stopped: SIGTERM, then SIGKILL after
    the grace period; ``signal`` says which one ended it) or ``"failed-to-start"``.
    ``peak_rss`` comes from the kernel (``wait4`` rusage ``ru_maxrss``) and so is
    known even for a child that was killed. ``error`` is the exception the child
    reported (``"MemoryError: ..."``) or the reason it gave none. ``cpu_user`` and
    ``cpu_system`` are the child's CPU seconds from the same rusage.
    """

    exit: ExitKind
    exit_code: int | None
    signal: int | None
    wall_time: float
    peak_rss: float
    cap: int
    cap_method: str
    error: str = ""
    events: int = 0
    completed: bool = False
    stderr_tail: str = ""
    cpu_user: float = 0.0
    cpu_system: float = 0.0

    @property
    def cpu_time(self) -> float:
        """CPU seconds the child used (user + system)."""
        return self.cpu_user + self.cpu_system

    @property
    def cpu_utilisation(self) -> float:
        """CPU seconds per wall-clock second (1.0: one core busy all the time; 0 for no time)."""
        return self.cpu_time / self.wall_time if self.wall_time > 0 else 0.0


@dataclass(frozen=True)
class LoadTrial(Record):
    """One child run at one load while searching for the breaking point."""

    load: int
    ok: bool
    peak_rss: float
    wall_time: float
    error: str = ""


@dataclass(frozen=True)
class StressSample(Record):
    """One reading the child reported: seconds since it started and bytes per signal.

    ``heap`` is the in-use heap the scenario judges (tracemalloc bytes where the
    scenario traces, else the glibc in-use bytes); ``vms`` is the virtual memory size
    (statm's first field); NaN where unavailable (``vms`` in reports written before it
    was recorded).
    """

    t: float
    rss: float
    heap: float = float("nan")
    native: float = float("nan")
    native_free: float = float("nan")
    label: str = ""
    vms: float = float("nan")


@dataclass(frozen=True)
class StressCheck(Record):
    """One verdict: ``value`` compared with ``target`` (``op`` is ``"<"``, ``">"``, ...).

    ``unit`` says how to read both: ``bytes``, ``bytes/s``, ``bytes/h``, ``ratio``, ``count``, ``load``.
    """

    name: str
    status: CheckStatus
    value: float
    target: float
    op: str
    detail: str = ""
    unit: str = ""


@dataclass(frozen=True)
class ScenarioResult(Record):
    """One scenario: its verdicts, figures, samples and child runs.

    ``passed`` is False when any check has status ``"fail"``, when the child ended in
    a way the scenario did not plan for (crash, timeout), or when the scenario's
    deciding checks could not decide (a soak whose growth interval straddles its
    target: :attr:`inconclusive`, with a note).
    """

    scenario: ScenarioName
    passed: bool
    checks: tuple[StressCheck, ...]
    metrics: dict[str, float]
    samples: tuple[StressSample, ...] = ()
    trials: tuple[LoadTrial, ...] = ()
    children: tuple[ChildOutcome, ...] = ()
    notes: tuple[str, ...] = ()
    params: dict[str, str] = field(default_factory=dict)

    @property
    def cpu_time(self) -> float:
        """CPU seconds (user + system) of the scenario's children, from the kernel."""
        return sum(c.cpu_time for c in self.children)

    @property
    def cpu_utilisation(self) -> float:
        """The children's CPU seconds per wall-clock second of their runs."""
        wall = sum(c.wall_time for c in self.children)
        return self.cpu_time / wall if wall > 0 else 0.0

    @property
    def failed_checks(self) -> list[StressCheck]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def inconclusive(self) -> bool:
        """Not passed, yet no check failed: the evidence was not enough either way."""
        return not self.passed and not self.failed_checks and all(c.completed for c in self.children)


@register_kind("stress_report")
@dataclass(frozen=True)
class StressReport(Record):
    """Every scenario run against one target under one memory cap."""

    target: str
    limit: int
    cap_method: str
    scenarios: tuple[ScenarioResult, ...]
    started_at: float
    duration: float
    host: str = ""
    python: str = ""
    platform: str = ""

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.scenarios)

    def scenario(self, name: str) -> ScenarioResult:
        """The result of the named scenario; KeyError names those present."""
        for result in self.scenarios:
            if result.scenario == name:
                return result
        raise KeyError(f"no scenario {name!r}; this report has {[s.scenario for s in self.scenarios]}")


@dataclass(frozen=True)
class PressureCycle(Record):
    """One allocate-and-release cycle of :class:`~memwatch.MemoryStressTester` (bytes)."""

    level: int
    cycle: int
    before: float
    peak: float
    after: float


@register_kind("pressure_test")
@dataclass(frozen=True)
class PressureTestResult(Record):
    """What ``MemoryStressTester().test_memory_pressure_scenarios()`` returns.

    ``breaking_point`` is the first level (bytes) that did not fit under the cap, or
    None; ``stability_score`` is defined in :func:`memwatch.stress.analysis.stability_score`.
    Seed scripts may index it like a dict: ``result["breaking_point_reached"]``.
    """

    breaking_point_reached: bool
    breaking_point: int | None
    stability_score: float
    cycles: tuple[PressureCycle, ...]
    limit: int
    cap_method: str
    child: ChildOutcome | None = None

    @property
    def cpu_time(self) -> float:
        """CPU seconds (user + system) the child used, beside its memory figures."""
        return self.child.cpu_time if self.child is not None else 0.0

    @property
    def cpu_utilisation(self) -> float:
        """The child's CPU seconds per wall-clock second."""
        return self.child.cpu_utilisation if self.child is not None else 0.0

    def __getitem__(self, key: str) -> object:
        if key not in {f.name for f in fields(self)} | {"cpu_time", "cpu_utilisation"}:
            raise KeyError(key)
        return getattr(self, key)
