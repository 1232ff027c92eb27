"""Compare two runs overall and phase by phase: time, peak and growth, absolute and %.

Lower is better for every metric here. A change counts as *unchanged* when it is
within ``tolerance`` of the earlier value or below a noise floor (1 MiB for
memory, 10 ms for time by default): RSS moves by whole pages and allocator
arenas, and a single run's timing on a shared machine varies by a few percent.
This is a difference of two single runs, not a statistical test: for a decision
that accounts for run-to-run noise, repeat the runs (``memwatch benchmark``).

Phases are matched by name and occurrence: the second ``load`` of one run is
compared with the second ``load`` of the other.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Literal

from memwatch.errors import ConfigError, UsageError
from memwatch.model.timeline import ComparisonResult, MetricDelta, PhaseComparison, PhaseStats, RunResult

__all__ = ["compare_runs", "metric_delta"]

Verdict = Literal["improved", "regressed", "unchanged"]


def metric_delta(
    metric: str, unit: str, before: float, after: float, *, tolerance: float, floor: float
) -> MetricDelta:
    """One metric before/after with its verdict (lower is better)."""
    delta = after - before
    percent = None if before == 0 or not math.isfinite(before) else delta / abs(before) * 100.0
    verdict: Verdict = "unchanged"
    if math.isfinite(delta) and abs(delta) > max(tolerance * abs(before), floor):
        verdict = "improved" if delta < 0 else "regressed"
    return MetricDelta(
        metric=metric, unit=unit, before=before, after=after, delta=delta, percent=percent, verdict=verdict
    )


def _keyed(stats: tuple[PhaseStats, ...]) -> dict[tuple[str, int], PhaseStats]:
    seen: Counter[str] = Counter()
    out = {}
    for s in sorted(stats, key=lambda s: s.start):
        seen[s.name] += 1
        out[(s.name, seen[s.name])] = s
    return out


def compare_runs(
    before: RunResult,
    after: RunResult,
    *,
    tolerance: float = 0.05,
    min_bytes: float = 2**20,
    min_seconds: float = 0.01,
    before_label: str = "before",
    after_label: str = "after",
) -> ComparisonResult:
    """Differences of ``after`` against ``before``, with improvements and regressions named."""
    if not 0 <= tolerance < 10 or not math.isfinite(tolerance):
        raise ConfigError(f"invalid tolerance {tolerance!r}: expected a fraction such as 0.05 for 5%")
    if before.primary_signal != after.primary_signal:
        raise UsageError(
            f"the runs measure different signals ({before.primary_signal!r} vs "
            f"{after.primary_signal!r}); record both with the same --signals"
        )
    unit = after.timeline.units.get(after.primary_signal, "bytes")
    floor = min_bytes if unit == "bytes" else 0.0

    def mem(metric: str, b: float, a: float) -> MetricDelta:
        return metric_delta(metric, unit, b, a, tolerance=tolerance, floor=floor)

    def secs(metric: str, b: float, a: float) -> MetricDelta:
        return metric_delta(metric, "seconds", b, a, tolerance=tolerance, floor=min_seconds)

    overall = (
        secs("duration", before.duration, after.duration),
        mem("peak", before.peak, after.peak),
        mem("growth", before.growth, after.growth),
    )
    old, new = _keyed(before.phase_stats), _keyed(after.phase_stats)
    phases = []
    for key in list(old) + [k for k in new if k not in old]:
        b, a = old.get(key), new.get(key)
        if b is None or a is None:
            phases.append(
                PhaseComparison(
                    name=key[0], occurrence=key[1], deltas=(), only_in="before" if a is None else "after"
                )
            )
            continue
        phases.append(
            PhaseComparison(
                name=key[0],
                occurrence=key[1],
                deltas=(
                    secs("duration", b.duration, a.duration),
                    mem("peak", b.peak_memory, a.peak_memory),
                    mem("change", b.delta_memory, a.delta_memory),
                ),
            )
        )
    return ComparisonResult(
        before_label=before_label,
        after_label=after_label,
        overall=overall,
        phases=tuple(phases),
        tolerance=tolerance,
    )
