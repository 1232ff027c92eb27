"""A test's metric over past runs, with the runs where it stepped (change points)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from memwatch.errors import DataError
from memwatch.model.history import ChangePoint, HistoryResult
from memwatch.stats.changepoint import detect_steps
from memwatch.store.db import Store
from memwatch.store.env import environment_key

__all__ = ["build_history"]


def build_history(
    store: Store,
    test_id: str,
    metric: str = "peak",
    *,
    env: Mapping[str, Any] | str | None = None,
    limit: int | None = 200,
    min_change: float = 0.05,
) -> HistoryResult:
    """The last ``limit`` values of a test's metric, their change points and baselines.

    Raises DataError naming the metrics that do exist when there is no such series.
    """
    points = store.trend(test_id, metric, env=env, limit=limit)
    if not points:
        metrics = store.metrics(test_id)
        where = f" in environment {environment_key(env)}" if env is not None else ""
        hint = (
            f"; this test has {', '.join(metrics)}"
            if metrics
            else "; no result of this test is recorded (check the test id)"
        )
        raise DataError(f"no history of {test_id} {metric!r}{where} in {store.display_url}{hint}")
    steps = detect_steps([p.value for p in points], min_change=min_change)
    change_points = tuple(
        ChangePoint(
            points[s.index].run_id,
            s.index,
            s.before,
            s.after,
            points[s.index].created_at,
            points[s.index].git_sha,
        )
        for s in steps
    )
    return HistoryResult(
        test_id,
        metric,
        points[-1].unit,
        tuple(points),
        change_points,
        environment_key(env) if env is not None else None,
        tuple(store.baselines(test_id, metric, env=env)),
    )
