"""Run a command N times and summarise wall time, peak memory and processing rate.

Each run is a full ``memwatch run`` (a fresh process, its tree sampled). Wall time
is measured around the whole child process, start-up included. With ``items`` the
rate is items / wall time per run. Summaries are mean, median, sample stdev, min
and max over the runs (:func:`memwatch.stats.summary.describe`); with 3 runs they
describe the spread, they do not test a hypothesis.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Literal

from memwatch.errors import ConfigError
from memwatch.model.timeline import BenchmarkResult, RunResult
from memwatch.runs.command import run_command
from memwatch.stats.summary import describe

__all__ = ["benchmark_command", "summarise"]


def summarise(
    wall_times: Sequence[float], peaks: Sequence[float], items: int | None
) -> dict[str, dict[str, float]]:
    """The summary table of a benchmark: wall_time, peak and (with items) rate."""
    summary = {"wall_time": describe(wall_times), "peak": describe(peaks)}
    if items:
        summary["rate"] = describe([items / t for t in wall_times if t > 0])
    return summary


def benchmark_command(
    argv: Sequence[str],
    iterations: int = 3,
    *,
    items: int | None = None,
    interval: float = 0.01,
    signals: Sequence[str] | None = None,
    mode: Literal["thread", "process"] = "thread",
    on_run: Callable[[int, RunResult, float], None] | None = None,
) -> BenchmarkResult:
    """Run ``argv`` ``iterations`` times, one after another; ``on_run(i, run, wall)`` after each.

    Ctrl-C stops after the current run; the runs done so far are summarised.
    """
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ConfigError(f"invalid number of iterations {iterations!r}: must be at least 1")
    if items is not None and (isinstance(items, bool) or items <= 0):
        raise ConfigError(f"invalid number of items {items!r}: must be a positive integer")
    runs: list[RunResult] = []
    walls: list[float] = []
    for i in range(iterations):
        start = time.perf_counter()
        run = run_command(argv, interval=interval, signals=signals, mode=mode, label=f"run {i + 1}")
        wall = time.perf_counter() - start
        runs.append(run)
        walls.append(wall)
        if on_run is not None:
            on_run(i, run, wall)
        if run.exit == "interrupted":
            break
    peaks = [r.peak for r in runs]
    return BenchmarkResult(
        command=tuple(str(a) for a in argv),
        iterations=len(runs),
        wall_times=tuple(walls),
        peaks=tuple(peaks),
        summary=summarise(walls, peaks, items),
        items=items,
        runs=tuple(runs),
    )
