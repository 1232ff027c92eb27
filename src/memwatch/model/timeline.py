"""Results of sampling memory over time: timelines, phases, runs, comparisons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from memwatch.model.base import Record, register_kind

__all__ = [
    "BenchmarkResult",
    "ComparisonResult",
    "MetricDelta",
    "Phase",
    "PhaseComparison",
    "PhaseStats",
    "RunResult",
    "Timeline",
]

SamplerMode = Literal["thread", "process"]


@dataclass(frozen=True)
class Phase(Record):
    """A named interval of a timeline; ``end`` is None while the phase is still open.

    Times are seconds since the timeline started. ``depth`` is the nesting level
    (0 for top-level phases); a name may repeat, each occurrence is its own Phase.
    """

    name: str
    start: float
    end: float | None = None
    depth: int = 0


@dataclass(frozen=True, eq=False)
class Timeline(Record):
    """Samples of several signals at shared time points.

    ``t`` is seconds since ``started_at`` (a Unix time); ``signals`` maps a signal
    name (``rss``, ``py_blocks``, ``native_heap``, ...) to values aligned with ``t``;
    ``units`` gives each signal's unit (``bytes`` or ``count``). Missing readings are NaN.
    """

    t: np.ndarray
    signals: dict[str, np.ndarray]
    units: dict[str, str]
    phases: tuple[Phase, ...] = ()
    interval: float = 0.01
    mode: SamplerMode = "thread"
    started_at: float = 0.0
    late_samples: int = 0
    missed_samples: int = 0
    downsampled: int = 1
    unavailable: dict[str, str] = field(default_factory=dict)
    # Added 2026-11 (optional, schema 1 readers default them):
    # peaks: the exact maximum of each signal over every sample taken, including
    #   samples later dropped by downsampling; bounded: "downsample" (past
    #   ``capacity`` samples every second one is dropped and ``downsampled``
    #   doubles); max_lateness: the worst delay of a timed sample, seconds.
    peaks: dict[str, float] = field(default_factory=dict)
    capacity: int = 0
    bounded: str = "downsample"
    max_lateness: float = 0.0
    target_pid: int | None = None
    # decimated: signals too costly to read at every timed sample, read every k-th
    #   one (NaN in between) to keep a sample within its time budget; signal -> k.
    decimated: dict[str, int] = field(default_factory=dict)
    # sampler_cpu: CPU seconds the sampling thread itself used (thread mode; 0 otherwise)
    sampler_cpu: float = 0.0

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Timeline):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    @property
    def duration(self) -> float:
        return float(self.t[-1] - self.t[0]) if len(self) else 0.0

    def signal(self, name: str) -> np.ndarray:
        """The samples of one signal; KeyError names the signals that exist."""
        try:
            return self.signals[name]
        except KeyError:
            raise KeyError(f"no signal {name!r}; this timeline has {sorted(self.signals)}") from None


@dataclass(frozen=True)
class PhaseStats(Record):
    """Memory of one phase occurrence, in bytes of the primary signal (``signal``)."""

    name: str
    start: float
    end: float
    duration: float
    start_memory: float
    end_memory: float
    peak_memory: float
    delta_memory: float
    peak_over_start: float
    samples: int
    signal: str = "rss"
    depth: int = 0


@register_kind("run")
@dataclass(frozen=True)
class RunResult(Record):
    """One profiled run: an in-process block or a child process (``memwatch run``).

    ``exit`` says how a child ended: ``"exited"`` (see ``exit_code``), ``"signal"``
    (see ``signal``), ``"interrupted"`` or ``"in-process"``.
    """

    timeline: Timeline
    phase_stats: tuple[PhaseStats, ...]
    primary_signal: str
    peak: float
    start_memory: float
    end_memory: float
    growth: float
    duration: float
    command: tuple[str, ...] = ()
    exit: Literal["exited", "signal", "interrupted", "in-process", "failed-to-start"] = "in-process"
    exit_code: int | None = None
    signal: int | None = None
    pid: int | None = None
    label: str = ""
    host: str = ""
    python: str = ""
    platform: str = ""
    peak_source: str = ""


@dataclass(frozen=True)
class MetricDelta(Record):
    """One metric before and after: absolute and relative change, and a verdict."""

    metric: str
    unit: str
    before: float
    after: float
    delta: float
    percent: float | None
    verdict: Literal["improved", "regressed", "unchanged"]


@dataclass(frozen=True)
class PhaseComparison(Record):
    name: str
    occurrence: int
    deltas: tuple[MetricDelta, ...]
    only_in: Literal["both", "before", "after"] = "both"


@register_kind("comparison")
@dataclass(frozen=True)
class ComparisonResult(Record):
    """Two runs compared overall and phase by phase."""

    before_label: str
    after_label: str
    overall: tuple[MetricDelta, ...]
    phases: tuple[PhaseComparison, ...]
    tolerance: float = 0.05

    @property
    def regressions(self) -> list[str]:
        out = [f"{d.metric}" for d in self.overall if d.verdict == "regressed"]
        for p in self.phases:
            out.extend(f"{p.name}#{p.occurrence}.{d.metric}" for d in p.deltas if d.verdict == "regressed")
        return out


@register_kind("benchmark")
@dataclass(frozen=True)
class BenchmarkResult(Record):
    """N runs of one command: per-run figures and their summaries."""

    command: tuple[str, ...]
    iterations: int
    wall_times: tuple[float, ...]
    peaks: tuple[float, ...]
    summary: dict[str, dict[str, float]]
    items: int | None = None
    runs: tuple[RunResult, ...] = ()
