"""Rows of the history database, as frozen records reporters can take.

The store (:mod:`memwatch.store`) returns these; reporters sit beside the store in
the layer order and cannot import it, so the shapes live here.

- :class:`ResultRow`: one measured metric of one test in one run, with its
  repeated samples (``unit`` is ``"bytes"``, ``"count"``, ``"seconds"``, ...).
- :class:`RunInfo`: one recorded run with its environment fingerprint.
- :class:`TrendPoint`: one run's value of one test's metric, for trends.
- :class:`Baseline`: the samples a later run is compared with, per environment.
- :class:`HistoryResult` (kind ``"history"``): a trend plus its change points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from memwatch.model.base import Record, register_kind

__all__ = [
    "Baseline",
    "ChangePoint",
    "HistoryResult",
    "ResultRow",
    "RunInfo",
    "TrendPoint",
]


def _median(samples: tuple[float, ...]) -> float:
    n = len(samples)
    if n == 1:
        return samples[0]
    if n == 0:
        return float("nan")
    ordered = sorted(samples)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0


@dataclass(frozen=True)
class ResultRow(Record):
    """One metric of one test in one run; ``samples`` are its repeated measurements."""

    test_id: str
    metric: str
    unit: str
    samples: tuple[float, ...]

    def __post_init__(self) -> None:
        # Accept any iterable of numbers; keep a tuple of floats.
        object.__setattr__(self, "samples", tuple(float(v) for v in self.samples))

    @property
    def value(self) -> float:
        """The median of the samples (NaN when there are none)."""
        return _median(self.samples)


@dataclass(frozen=True)
class RunInfo(Record):
    """One recorded run. ``created_at`` is a Unix time; ``env_key`` names the environment."""

    id: int
    created_at: float
    kind: str
    label: str = ""
    git_sha: str | None = None
    git_branch: str | None = None
    host: str = ""
    env_key: str = ""
    env: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    result_count: int = 0


@dataclass(frozen=True)
class TrendPoint(Record):
    """One run's value (the median of its samples) of one test's metric."""

    run_id: int
    created_at: float
    value: float
    samples: tuple[float, ...]
    unit: str
    git_sha: str | None = None
    git_branch: str | None = None
    label: str = ""
    env_key: str = ""


@dataclass(frozen=True)
class Baseline(Record):
    """The reference samples of one test's metric in one environment."""

    test_id: str
    metric: str
    unit: str
    samples: tuple[float, ...]
    env_key: str
    env: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None
    source: str = ""
    set_at: float = 0.0

    @property
    def value(self) -> float:
        """The median of the baseline samples."""
        return _median(self.samples)


@dataclass(frozen=True)
class ChangePoint(Record):
    """A run where a metric stepped: medians of the segments before and after it."""

    run_id: int
    index: int
    before: float
    after: float
    created_at: float = 0.0
    git_sha: str | None = None

    @property
    def ratio(self) -> float | None:
        return self.after / self.before if self.before else None

    @property
    def direction(self) -> str:
        return "up" if self.after > self.before else "down"


@register_kind("history")
@dataclass(frozen=True)
class HistoryResult(Record):
    """The trend of one test's metric over past runs, oldest first, with change points
    and the baselines of that test and metric (every environment's, or ``env_key``'s)."""

    test_id: str
    metric: str
    unit: str
    points: tuple[TrendPoint, ...]
    change_points: tuple[ChangePoint, ...] = ()
    env_key: str | None = None
    baselines: tuple[Baseline, ...] = ()
