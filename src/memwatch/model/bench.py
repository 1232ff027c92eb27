"""Results of the memory benchmark set (``memwatch bench``): one figure per benchmark, with
its threshold, verdict, raw samples and the machine it ran on.

A :class:`BenchReport` is saved as document kind ``"bench_report"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from memwatch.errors import CheckFailed
from memwatch.model.base import Record, register_kind

__all__ = ["BenchMachine", "BenchMetric", "BenchReport", "Direction"]

#: ``"min"``: the value must be at least the threshold (rates); ``"max"``: at most (times).
Direction = Literal["min", "max"]


@dataclass(frozen=True)
class BenchMachine(Record):
    """Where the benchmarks ran. ``memory_limit`` is the tightest limit (cgroup, rlimit or
    the host's total) and ``memory_limit_source`` says which one; ``load_1m`` is the
    one-minute load average when the run started (a hint that the machine was busy)."""

    host: str
    system: str
    release: str
    machine: str
    cpu: str
    cpu_count: int
    python: str
    implementation: str
    memory_total: int
    memory_limit: int
    memory_limit_source: str
    load_1m: float | None = None


@dataclass(frozen=True)
class BenchMetric(Record):
    """One benchmark: ``value`` (the median of ``samples``) against ``threshold``.

    ``passed`` is ``value >= threshold`` for direction ``"min"`` and
    ``value <= threshold`` for ``"max"``; NaN never passes.
    """

    name: str
    value: float
    unit: str
    threshold: float
    direction: Direction
    passed: bool
    samples: tuple[float, ...] = ()
    description: str = ""

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"

    def line(self) -> str:
        """``name  value unit  (>= threshold)  PASS``, for people."""
        from memwatch.reporters.bench import metric_line

        return metric_line(self)


@register_kind("bench_report")
@dataclass(frozen=True)
class BenchReport(Record):
    """One run of the benchmark set. ``quick`` runs use smaller workloads."""

    started_at: float
    duration: float
    quick: bool
    machine: BenchMachine
    metrics: tuple[BenchMetric, ...]
    config_source: str = ""

    @property
    def passed(self) -> bool:
        return all(m.passed for m in self.metrics)

    @property
    def failures(self) -> tuple[BenchMetric, ...]:
        return tuple(m for m in self.metrics if not m.passed)

    def metric(self, name: str) -> BenchMetric:
        """The named benchmark; KeyError lists the names there are."""
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"no benchmark {name!r}; this report has {[m.name for m in self.metrics]}")

    def summary(self) -> str:
        """A header naming the machine, one line per benchmark, and the overall verdict."""
        from memwatch.reporters.bench import bench_summary

        return bench_summary(self)

    def raise_for_failures(self) -> None:
        """Raise :class:`~memwatch.errors.CheckFailed` naming each benchmark that failed."""
        if self.failures:
            from memwatch.reporters.bench import fmt_number

            names = ", ".join(f"{m.name} {fmt_number(m.value)} {m.unit}" for m in self.failures)
            raise CheckFailed(f"{len(self.failures)} memory benchmark(s) failed: {names}")
