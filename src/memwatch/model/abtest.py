"""Two implementations of one operation measured side by side (``memwatch compare --ab``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from memwatch.model.base import Record, register_kind

__all__ = ["ABComparison", "ABMetric"]

Verdict = Literal["b better", "b worse", "no difference"]


@dataclass(frozen=True)
class ABMetric(Record):
    """One metric of A and B: medians, B/A ratio of medians with its bootstrap CI, the test.

    ``verdict`` reads from B's side: ``b better`` is lower memory or time, and counts
    only when tolerance, floor and significance all agree.
    """

    metric: str
    unit: str
    a: tuple[float, ...]
    b: tuple[float, ...]
    a_median: float
    b_median: float
    delta: float
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    verdict: Verdict
    reasons: tuple[str, ...] = ()


@register_kind("ab_comparison")
@dataclass(frozen=True)
class ABComparison(Record):
    a: str
    b: str
    samples: int
    batch: int
    metrics: tuple[ABMetric, ...]
    tolerance: float = 0.05
    alpha: float = 0.05

    def metric(self, name: str) -> ABMetric:
        for m in self.metrics:
            if m.metric == name:
                return m
        raise KeyError(name)
