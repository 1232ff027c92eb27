"""Record a benchmark report into the history database, compare it with the stored baselines,
and turn it into a suite check."""

from __future__ import annotations

import math
from typing import Any

from memwatch.model.bench import BenchReport

__all__ = ["TEST_ID", "compare_with_baselines", "memory_benchmarks_check", "record_benchmarks"]

#: The ``test_id`` benchmark results are stored under; each benchmark is one metric.
TEST_ID = "memwatch.benchset"


def record_benchmarks(report: BenchReport, url: str | None = None, *, store: Any = None) -> int:
    """Record every benchmark's samples as one run of kind ``"bench"``; returns the run id.

    ``store`` is an open :class:`memwatch.store.Store`; otherwise ``url`` (None:
    ``$MEMWATCH_DB`` or ``.memwatch/history.db``) is opened and closed here.
    ``memwatch history memwatch.benchset <name>`` then shows a benchmark over time.
    """
    from memwatch.store import ResultRow, open_store

    # The store refuses NaN: a benchmark without a finite figure is left out, not a crash.
    rows = [
        ResultRow(TEST_ID, m.name, m.unit, finite)
        for m in report.metrics
        if (finite := tuple(v for v in (m.samples or (m.value,)) if math.isfinite(v)))
    ]
    meta = {
        "quick": report.quick,
        "passed": report.passed,
        "failed": [m.name for m in report.failures],
        "host": report.machine.host,
    }
    if store is not None:
        return int(store.record_run("bench", rows, meta=meta))
    with open_store(url) as opened:
        return int(opened.record_run("bench", rows, meta=meta))


def compare_with_baselines(store: Any, run_id: int, config: Any = None) -> Any:
    """Compare recorded run ``run_id`` with the baselines of this environment, each benchmark
    in its direction (:mod:`memwatch.regression.metrics`: rates and hit rates regress when
    they fall, times and pauses when they rise) at its percent threshold (``regression.thresholds``,
    else ``regression.severity.minor``). A benchmark without a baseline gets this run's
    samples; a confirmed improvement moves its baseline (``auto_update_baselines``).
    Returns the :class:`~memwatch.model.regression.RegressionReport`.
    """
    import dataclasses

    from memwatch.model.history import Baseline
    from memwatch.store.gates import check_run

    report = check_run(store, run_id, config=config)
    new = [c for c in report.checks if c.status == "new"]
    if new:
        info = store.run(run_id)
        store.put_baselines(
            Baseline(
                c.test_id, c.metric, c.unit, c.current, info.env_key, info.env, run_id, f"run {run_id}: first"
            )
            for c in new
        )
        checks = tuple(
            dataclasses.replace(c, baseline_updated=True) if c.status == "new" else c for c in report.checks
        )
        report = dataclasses.replace(report, checks=checks)
    return report


def memory_benchmarks_check(component: Any, spec: Any, ctx: Any) -> Any:
    """A validation-suite check: run the benchmark set with the suite's config.

    Quick workloads at level ``quick``; options ``only`` (a list of benchmark names).
    A failed threshold is status ``fail`` with severity ``major``. Register it with
    ``memwatch.suite.register_check("memory_benchmarks")(memory_benchmarks_check)``.
    """
    from memwatch.benchset.runner import run_memory_benchmarks
    from memwatch.model.base import dump_document
    from memwatch.model.suite import CheckOutcome

    options = {**getattr(spec, "options", {})}
    own = getattr(component, "options", {}).get(getattr(spec, "name", ""), {})
    if isinstance(own, dict):
        options.update(own)
    report = run_memory_benchmarks(ctx.config, quick=ctx.level == "quick", only=options.get("only"))
    failed = report.failures
    return CheckOutcome(
        component=component.name,
        check=getattr(spec, "name", "memory_benchmarks"),
        status="pass" if not failed else "fail",
        severity="none" if not failed else "major",
        summary=report.summary().splitlines()[-1],
        details="\n".join(m.line() for m in failed),
        metrics={m.name: float(m.value) for m in report.metrics},
        units={m.name: m.unit for m in report.metrics},
        document=dump_document(report),
    )
