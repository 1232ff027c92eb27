"""``MemoryPerformanceRegression``: benchmark one function's memory performance, keep it in the
history database and compare it with its baseline, metric by metric (documents 000 and 001).

::

    tester = MemoryPerformanceRegression()            # $MEMWATCH_DB, store.url or .memwatch/history.db
    metrics = tester.benchmark_memory_performance("parse", parse_config, iterations=200)
    result = tester.compare_with_baseline(metrics)    # against the stored baseline of "parse"
    print(result.regression_detected, result.summary())

Measuring is :func:`memwatch.regression.abtest.measure_operation` (samples of ``batch``
calls, tracemalloc peak and retained bytes, time per call), with the collector watched by
:class:`memwatch.gcwatch.GCMonitor`. Comparing is :func:`memwatch.regression.check.check_regressions`
(each metric's direction from :mod:`memwatch.regression.metrics`, per-metric thresholds from
``regression.thresholds``); the stored baselines are the history database's
(:mod:`memwatch.store`), so ``memwatch history`` and ``memwatch baseline`` see them too.

From async code (the documents ``await`` both calls) ``benchmark_memory_performance`` returns
an awaitable that measures in a worker thread, leaving the event loop free.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from memwatch.config.lifecycle import Pending, in_running_loop, sync_calls
from memwatch.errors import ConfigError
from memwatch.model.performance import MetricChange, PerformanceMetrics, PerformanceRegressionResult

if TYPE_CHECKING:
    from memwatch.config.schema import Config
    from memwatch.model.history import Baseline, ResultRow
    from memwatch.model.regression import RegressionReport
    from memwatch.store import Store

__all__ = ["KIND", "MemoryPerformanceRegression"]

#: the kind of the history runs the benchmarks are recorded as
KIND = "perf"
_UNITS = {
    "peak": "bytes",
    "growth": "bytes",
    "time_per_op": "seconds",
    "ops_per_second": "ops/s",
    "gc_pause_avg_ms": "ms",
}


def _median(values: tuple[float, ...]) -> float:
    return float(statistics.median(values)) if values else math.nan


class MemoryPerformanceRegression:
    """Benchmarks functions and compares them with their baselines in the history database.

    ``db``: the history database (None: ``$MEMWATCH_DB``, the config's ``store.url``, else
    ``.memwatch/history.db``). ``record``: store every benchmark as a run of kind ``perf``
    and keep baselines there (False: nothing is written; ``compare_with_baseline`` then
    needs the baseline given). ``thresholds``: percent per metric (``{"ops_per_second": 10}``),
    over the config's ``regression.thresholds``; ``samples``: batches per benchmark
    (default: ``regression.samples`` at the config's level). ``config``: a loaded
    :class:`~memwatch.config.schema.Config` (default: the file found from here).
    """

    def __init__(
        self,
        db: str | None = None,
        *,
        record: bool = True,
        thresholds: Mapping[str, float | str] | None = None,
        samples: int | None = None,
        config: Config | None = None,
    ) -> None:
        from memwatch.config.options import regression_options, regression_thresholds
        from memwatch.config.schema import load_config

        self.config = config if config is not None else load_config()
        self.thresholds = regression_thresholds(thresholds, config=self.config)
        self.samples = regression_options({"samples": samples}, config=self.config).samples
        if self.samples < 2:
            raise ConfigError(f"samples must be at least 2 (a comparison needs repeats), got {self.samples}")
        self.db = db
        self.record = record
        per_metric = {**self.config.regression.thresholds, **self.thresholds.per_metric}
        self._regression = self.config.regression.model_copy(update={"thresholds": per_metric})

    # -- measuring ----------------------------------------------------------------------------
    def benchmark_memory_performance(
        self,
        name: str | None = None,
        func: Callable[[], Any] | None = None,
        iterations: int = 100,
        *,
        component_name: str | None = None,
        test_name: str | None = None,
        test_function: Callable[[], Any] | None = None,
    ) -> Any:
        """Measure ``func`` (plain or ``async def``, called without arguments) over
        ``iterations`` calls, split into ``samples`` batches (``iterations`` rounded down to a
        multiple of them), after one unmeasured batch; record the figures when ``record``.

        Document 000's keywords are accepted: ``component_name``, ``test_name``,
        ``test_function``. Returns :class:`~memwatch.model.performance.PerformanceMetrics`,
        or inside a running event loop an awaitable of it.
        """
        label = test_name if test_name is not None else name
        target = test_function if test_function is not None else func
        if not label or not isinstance(label, str):
            raise ConfigError("benchmark_memory_performance needs a name (name= or test_name=)")
        if not callable(target):
            raise ConfigError(
                f"benchmark_memory_performance({label!r}) needs a function to measure "
                f"(func= or test_function=), got {target!r}"
            )
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < self.samples:
            raise ConfigError(
                f"iterations must be an integer >= {self.samples} (one call per sample at least), "
                f"got {iterations!r}"
            )
        component = component_name or ""

        def run() -> PerformanceMetrics:
            return self._measure(component, label, target, iterations)

        if in_running_loop():
            import asyncio

            return Pending(asyncio.to_thread(run), "benchmark_memory_performance")
        return run()

    def _measure(
        self, component: str, name: str, func: Callable[[], Any], iterations: int
    ) -> PerformanceMetrics:
        from memwatch.gcwatch import GCMonitor
        from memwatch.regression.abtest import measure_operation

        batch = iterations // self.samples
        with sync_calls(func) as call, GCMonitor(count_objects=False) as monitor:
            measured = measure_operation(call, samples=self.samples, batch=batch)
        report = monitor.report
        automatic = [
            float(ms)
            for ms, forced in zip(report.events.duration_ms, report.events.forced, strict=True)
            if not forced
        ]
        series: dict[str, tuple[float, ...]] = {
            "peak": measured.peak,
            "growth": tuple(g * batch for g in measured.growth),
            "time_per_op": measured.time,
            "ops_per_second": tuple(1.0 / t if t > 0 else math.inf for t in measured.time),
        }
        if automatic:
            series["gc_pause_avg_ms"] = tuple(automatic)
        series = {k: v for k, v in series.items() if all(math.isfinite(x) for x in v)}
        metrics = PerformanceMetrics(
            component_name=component,
            test_name=name,
            iterations=batch * self.samples,
            samples=self.samples,
            batch=batch,
            peak=_median(measured.peak),
            growth=_median(series["growth"]),
            time_per_op=_median(measured.time),
            ops_per_second=_median(series.get("ops_per_second", ())),
            gc_collections=int(report.automatic),
            gc_pause_avg_ms=statistics.fmean(automatic) if automatic else None,
            series=series,
            units={k: _UNITS[k] for k in series},
        )
        if not self.record:
            return metrics
        with self._store() as store:
            run_id = store.record_run(
                KIND,
                _rows(metrics),
                label=metrics.test_id,
                meta={"iterations": metrics.iterations, "samples": metrics.samples, "batch": batch},
            )
        from dataclasses import replace

        return replace(metrics, run_id=run_id)

    # -- comparing ----------------------------------------------------------------------------
    def compare_with_baseline(
        self,
        metrics: PerformanceMetrics,
        baseline_metrics: PerformanceMetrics | None = None,
        *,
        gates: tuple[str, ...] = (),
    ) -> PerformanceRegressionResult:
        """Compare ``metrics`` with ``baseline_metrics`` or, when None, with the stored baseline
        of the same test in this environment. With ``record`` on, a test without a stored
        baseline gets this one, and a confirmed improvement moves it (``auto_update_baselines``).
        ``gates``: expressions such as ``"peak:10%"`` that also count as regressions.
        """
        from memwatch.regression.check import check_regressions
        from memwatch.store.env import environment_fingerprint, environment_key

        if not isinstance(metrics, PerformanceMetrics):
            raise ConfigError(
                f"compare_with_baseline needs the PerformanceMetrics of benchmark_memory_performance, "
                f"got {type(metrics).__name__} (did you forget to await it?)"
            )
        env = environment_fingerprint()
        key = environment_key(env)
        rows = _rows(metrics)
        if baseline_metrics is not None:
            if not isinstance(baseline_metrics, PerformanceMetrics):
                raise ConfigError(
                    f"baseline_metrics must be PerformanceMetrics (or None for the stored baseline), "
                    f"got {type(baseline_metrics).__name__}"
                )
            baselines = _as_baselines(baseline_metrics, metrics.test_id, key, env)
            source = f"the given baseline ({baseline_metrics.test_id})"
            report = check_regressions(
                rows, baselines, env_key=key, env=env, config=self._regression, gates=gates
            )
            return _result(metrics.test_id, report, source)
        if not self.record:
            raise ConfigError(
                "compare_with_baseline without baseline_metrics reads the stored baseline: "
                "use MemoryPerformanceRegression(record=True) or pass baseline_metrics"
            )
        with self._store() as store:
            stored = store.baselines(metrics.test_id, env=key)
            report = check_regressions(
                rows,
                stored,
                env_key=key,
                env=env,
                config=self._regression,
                gates=gates,
                run_id=metrics.run_id,
            )
            report = _settle(store, report, rows, key, env, metrics.run_id)
            source = (
                f"the stored baseline in {store.display_url}"
                if stored
                else "no baseline yet (this one is now)"
            )
        return _result(metrics.test_id, report, source)

    def set_baseline(self, metrics: PerformanceMetrics) -> None:
        """Make ``metrics`` the stored baseline of its test in this environment."""
        from memwatch.store.env import environment_fingerprint, environment_key

        env = environment_fingerprint()
        with self._store() as store:
            store.put_baselines(
                _as_baselines(metrics, metrics.test_id, environment_key(env), env, run=metrics.run_id)
            )

    def _store(self) -> Store:
        from memwatch.store import configured_url, open_store

        return open_store(configured_url(self.db))


def _rows(metrics: PerformanceMetrics) -> list[ResultRow]:
    from memwatch.model.history import ResultRow

    return [ResultRow(metrics.test_id, m, metrics.units[m], v) for m, v in metrics.series.items() if v]


def _as_baselines(
    metrics: PerformanceMetrics, test_id: str, key: str, env: dict[str, Any], *, run: int | None = None
) -> list[Baseline]:
    import time

    from memwatch.model.history import Baseline

    source = f"run {run}" if run else f"benchmark of {metrics.test_id}"
    now = time.time()
    return [
        Baseline(test_id, m, metrics.units[m], v, key, env, run, source, now)
        for m, v in metrics.series.items()
        if v
    ]


def _settle(
    store: Store,
    report: RegressionReport,
    rows: list[ResultRow],
    key: str,
    env: dict[str, Any],
    run: int | None,
) -> RegressionReport:
    """A metric without a baseline gets this one; a confirmed improvement moves it."""
    import time

    from memwatch.model.history import Baseline
    from memwatch.store.gates import apply_baseline_updates

    new = {c.metric for c in report.checks if c.status == "new"}
    if new:
        now = time.time()
        store.put_baselines(
            Baseline(r.test_id, r.metric, r.unit, r.samples, key, env, run, "first benchmark", now)
            for r in rows
            if r.metric in new
        )
    return apply_baseline_updates(store, report, env=env)


def _result(test_id: str, report: RegressionReport, source: str) -> PerformanceRegressionResult:
    from memwatch.model.regression import SEVERITY_ORDER

    changes = tuple(
        MetricChange(
            metric=c.metric,
            unit=c.unit,
            value=c.current_value,
            baseline=c.baseline_value,
            change_percent=None if c.relative is None else c.relative * 100.0,
            direction=c.better,
            threshold_percent=c.threshold,
            verdict=c.status,
            severity=c.severity,
            p_value=c.p_value,
        )
        for c in report.checks
    )
    regressed = [c for c in report.checks if c.status == "regressed" or c.gates_failed]
    p_values = [c.p_value for c in regressed if c.p_value is not None]
    return PerformanceRegressionResult(
        test_id=test_id,
        regression_detected=bool(regressed),
        changes=changes,
        confidence=1.0 - min(p_values) if p_values else 0.0,
        severity=max((c.severity for c in regressed), key=SEVERITY_ORDER.__getitem__, default="none"),
        baseline_source=source,
        report=report,
    )
