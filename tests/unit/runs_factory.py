"""Synthetic runs with known figures, shared by the unit tests of runs, comparisons and reporters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from memwatch.model.timeline import Phase, RunResult, Timeline
from memwatch.sampling.profiler import build_run_result

MIB = 2**20


def make_timeline(
    values_mib: Sequence[float],
    *,
    step: float = 0.1,
    phases: Sequence[tuple[str, float, float | None, int]] = (),
) -> Timeline:
    """An rss series (MiB values, one every ``step`` seconds) with the given phases."""
    t = np.arange(len(values_mib), dtype=np.float64) * step
    rss = np.asarray(values_mib, dtype=np.float64) * MIB
    return Timeline(
        t=t,
        signals={"rss": rss},
        units={"rss": "bytes"},
        phases=tuple(Phase(n, s, e, d) for n, s, e, d in phases),
        interval=step,
        started_at=1_790_000_000.0,
        peaks={"rss": float(np.max(rss))} if rss.size else {},
    )


def make_run(
    values_mib: Sequence[float],
    *,
    step: float = 0.1,
    phases: Sequence[tuple[str, float, float | None, int]] = (),
    **meta: object,
) -> RunResult:
    run = build_run_result(make_timeline(values_mib, step=step, phases=phases), **meta)  # type: ignore[arg-type]
    # fixed host facts so that golden text does not depend on the machine
    from dataclasses import replace

    return replace(run, host="host", python="3.11.0", platform="Linux")


def job_run(scale: float = 1.0, **meta: Any) -> RunResult:
    """Load to 70 MiB, transform peaking at 100, release back to 20 (phases of those names)."""
    values = [10, 20, 40, 70, 70, 90, 100, 80, 20, 20]
    return make_run(
        [v * scale for v in values],
        phases=[("load", 0.0, 0.35, 0), ("transform", 0.35, 0.65, 0), ("release", 0.65, 0.9, 0)],
        **meta,
    )
