"""Regression gates against the history database: check a recorded run, move baselines.

:func:`check_run` loads a run's results and every baseline of its tests, compares
them with :func:`memwatch.regression.check.check_regressions` and, for improvements the
statistics confirmed, makes the run's samples the new baseline (when the config's
``auto_update_baselines`` is on). The returned report says which baselines moved.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable

from memwatch.config.schema import RegressionConfig
from memwatch.model.history import Baseline
from memwatch.model.regression import RegressionReport
from memwatch.regression.check import check_regressions
from memwatch.store.db import Store
from memwatch.units import Gate

__all__ = ["apply_baseline_updates", "check_run"]


def check_run(
    store: Store,
    run_id: int,
    *,
    config: RegressionConfig | None = None,
    gates: Iterable[str | Gate] = (),
    update_baselines: bool | None = None,
    seed: int = 0,
) -> RegressionReport:
    """Compare run ``run_id`` with the stored baselines; apply confirmed improvements.

    ``update_baselines`` overrides ``config.auto_update_baselines`` when given.
    """
    cfg = config or RegressionConfig()
    if update_baselines is not None:
        cfg = cfg.model_copy(update={"auto_update_baselines": update_baselines})
    info = store.run(run_id)
    rows = store.results(run_id)
    tests = {r.test_id for r in rows}
    baselines = [b for b in store.baselines() if b.test_id in tests]
    report = check_regressions(
        rows, baselines, env_key=info.env_key, env=info.env, config=cfg, gates=gates, run_id=run_id, seed=seed
    )
    return apply_baseline_updates(store, report, env=info.env)


def apply_baseline_updates(
    store: Store, report: RegressionReport, *, env: dict[str, object] | None = None
) -> RegressionReport:
    """Store the current samples of every check marked ``update_baseline``; one transaction."""
    todo = [c for c in report.checks if c.update_baseline and not c.baseline_updated]
    if not todo:
        return report
    source = f"auto: improvement in run {report.run_id}" if report.run_id else "auto: improvement"
    now = time.time()
    store.put_baselines(
        Baseline(
            c.test_id,
            c.metric,
            c.unit,
            c.current,
            report.env_key,
            dict(env or {}),
            report.run_id,
            source,
            now,
        )
        for c in todo
    )
    moved = {(c.test_id, c.metric) for c in todo}
    checks = tuple(
        dataclasses.replace(c, baseline_updated=True) if (c.test_id, c.metric) in moved else c
        for c in report.checks
    )
    return dataclasses.replace(report, checks=checks)
