"""The built-in checks: thin adapters from a component to memwatch's engines.

Each imports its engine when it runs; the policy (:mod:`memwatch.suite.policy`)
turns the engine's severity into pass / warn / fail.
"""

from __future__ import annotations

from typing import Any

from memwatch.model.base import dump_document
from memwatch.model.suite import Chart, CheckOutcome, Severity
from memwatch.suite.checks import SuiteContext, register_check
from memwatch.suite.policy import fail_threshold, status_for
from memwatch.suite.spec import CheckSpec, ComponentSpec, resolve_target

__all__ = ["leaks_check", "level_option"]


def level_option(options: dict[str, Any], key: str, level: str, default: Any = None) -> Any:
    """An option that may be one value or a mapping of level -> value."""
    value = options.get(key, default)
    if isinstance(value, dict):
        return value.get(level, default)
    return value


def _options(component: ComponentSpec, spec: CheckSpec) -> dict[str, Any]:
    own = component.options.get(spec.name, {})
    return {**spec.options, **(own if isinstance(own, dict) else {})}


@register_check("leaks")
def leaks_check(component: ComponentSpec, spec: CheckSpec, ctx: SuiteContext) -> CheckOutcome:
    """Leak detection on the component's operation (component mode when a factory is named)."""
    from memwatch.leaks.runner import MemoryLeakDetector, detect_leaks

    options = _options(component, spec)
    threshold = fail_threshold(options)
    operation = resolve_target(component.operation)
    iterations = level_option(options, "iterations", ctx.level)
    max_growth = options.get("max_growth", ctx.config.leaks.max_growth)
    time_budget = level_option(options, "time_budget", ctx.level, ctx.config.leaks.time_budget)
    if component.factory:
        factory = resolve_target(component.factory)
        report = MemoryLeakDetector(max_growth=max_growth).detect_leaks_in_component(
            factory, operation, iterations=iterations or 100
        )
    else:
        report = detect_leaks(
            operation,
            iterations=iterations,
            max_growth=max_growth,
            time_budget=time_budget,
            reset_caches=ctx.config.leaks.reset_caches,
        )
    severity: Severity = report.severity if report.leak_detected else "none"
    status = status_for(severity, threshold)
    if report.verdict == "inconclusive":
        status = "warn"
    metrics = {f"growth.{e.signal}": float(e.per_iteration) for e in report.signals}
    units = {f"growth.{e.signal}": e.unit for e in report.signals}
    metrics["bytes_per_1000_calls"] = report.bytes_per_iteration * 1000.0
    units["bytes_per_1000_calls"] = "bytes"
    return CheckOutcome(
        component=component.name,
        check="leaks",
        status=status,
        severity=severity,
        summary=report.summary(),
        details=report.explain() if report.leak_detected else "",
        metrics=metrics,
        units=units,
        document=dump_document(report),
        charts=_leak_charts(report),
    )


def _leak_charts(report: Any) -> tuple[Chart, ...]:
    charts = []
    for unit in ("bytes", "count"):
        series = {
            e.signal: tuple(float(v) - float(e.samples[0]) for v in e.samples)
            for e in report.signals
            if e.unit == unit and len(e.samples) > 1
        }
        if not series:
            continue
        rounds = max(len(v) for v in series.values())
        charts.append(
            Chart(
                title=f"Change since the first round ({'bytes' if unit == 'bytes' else 'counts'})",
                x=tuple(float(i) for i in range(rounds)),
                series=series,
                unit=unit,
                x_label=f"round ({report.batch_size} calls each)",
            )
        )
    return tuple(charts)


@register_check("gc")
def gc_check(component: ComponentSpec, spec: CheckSpec, ctx: SuiteContext) -> CheckOutcome:
    """GC pauses and frequency of the operation, against ``config.gc`` and the check's limits."""
    from memwatch.gcwatch import GCPerformanceValidator, measure_latency

    options = _options(component, spec)
    threshold = fail_threshold(options, default="major")
    iterations = int(level_option(options, "iterations", ctx.level, 1000))
    limits: dict[str, Any] = {
        "max_pause_p95_ms": ctx.config.gc.pause_p95_ms,
        "max_pause_ms": ctx.config.gc.pause_max_ms,
    }
    limits.update(options.get("thresholds", {}))
    report = measure_latency(resolve_target(component.operation), iterations, component=component.name)
    verdict = GCPerformanceValidator(limits).validate_gc_efficiency(report)
    severity: Severity = "none" if verdict.passed else "major"
    allp = report.pauses["all"]
    metrics = {
        "collections": float(report.collections),
        "pause_p95": allp.p95_ms,
        "pause_max": allp.max_ms,
        "gc_time_share": allp.share * 100.0,
    }
    units = {"collections": "count", "pause_p95": "ms", "pause_max": "ms", "gc_time_share": "%"}
    if report.collections_per_operation is not None:
        metrics["collections_per_operation"] = report.collections_per_operation
        units["collections_per_operation"] = "count"
    charts: tuple[Chart, ...] = ()
    if len(report.events.start_ms):
        charts = (
            Chart(
                title="GC pauses during the run",
                unit="ms",
                x_label="ms since start",
                x=tuple(float(v) for v in report.events.start_ms),
                series={"pause": tuple(float(v) for v in report.events.duration_ms)},
            ),
        )
    failures = "; ".join(c.message for c in verdict.failures)
    return CheckOutcome(
        component=component.name,
        check="gc",
        status=status_for(severity, threshold),
        severity=severity,
        summary=failures or report.summary().splitlines()[0],
        details=report.summary(),
        metrics=metrics,
        units=units,
        document=dump_document(report),
        charts=charts,
    )


_SAMPLES = {"quick": 5, "comprehensive": 9, "nightly": 15}


@register_check("regression")
def regression_check(component: ComponentSpec, spec: CheckSpec, ctx: SuiteContext) -> CheckOutcome:
    """Peak and retained growth per call, against this environment's baseline in the store.

    Without a baseline the measurement becomes the baseline; a confirmed improvement
    replaces it (``regression.auto_update_baselines``). Without a store it only measures.
    """
    from memwatch.model.history import ResultRow
    from memwatch.regression.abtest import METRIC_UNITS, measure_operation
    from memwatch.regression.check import check_regressions, parse_gates

    options = _options(component, spec)
    threshold = fail_threshold(options)
    samples = int(level_option(options, "samples", ctx.level, _SAMPLES.get(ctx.level, 5)))
    measured = measure_operation(
        resolve_target(component.operation), samples=samples, batch=int(options.get("batch", 10))
    )
    test_id = f"{component.name}::regression"
    rows = [ResultRow(test_id, m, METRIC_UNITS[m], measured.metric(m)) for m in ("peak", "growth")]
    metrics = {r.metric: r.value for r in rows}
    metrics["time_per_call"] = float(sorted(measured.time)[len(measured.time) // 2])
    units = {**{r.metric: r.unit for r in rows}, "time_per_call": "s"}
    if ctx.store is None:
        return CheckOutcome(
            component.name,
            "regression",
            "pass",
            summary="measured only (no history database: --no-db)",
            metrics=metrics,
            units=units,
        )
    from memwatch.store import environment_key

    env_key = environment_key(ctx.environment)
    report = check_regressions(
        rows,
        ctx.store.baselines(test_id),
        env_key=env_key,
        env=ctx.environment,
        config=ctx.config.regression,
        gates=tuple(options.get("gates", ())),
    )
    updated = False
    for c in report.checks:
        if c.status == "new" or (c.update_baseline and ctx.config.regression.auto_update_baselines):
            ctx.store.set_baseline(
                test_id, c.metric, c.unit, c.current, env=ctx.environment, source=f"validate {ctx.level}"
            )
            updated = True
    regressed = [c for c in report.checks if c.status == "regressed"]
    order = ("none", "trace", "minor", "major", "critical")
    severity: Severity = max((c.severity for c in regressed), key=order.index, default="none")
    status = status_for(severity, threshold)
    if any(c.gates_failed for c in report.checks):
        status = "fail"
    summary = ", ".join(
        f"{c.metric} {c.status}" + (f" ({c.severity})" if c.status == "regressed" else "")
        for c in report.checks
    )
    if report.unmatched_gates:  # a gate that checks nothing must not pass silently
        own = {str(g) for g in parse_gates(options.get("gates", ()))}
        if own & set(report.unmatched_gates):
            status = "error"  # this check's own gate: a typo, as it measures only peak and growth
        summary += (
            f"; gate {', '.join(report.unmatched_gates)} names no metric of this check "
            f"(it measures peak and growth)"
        )
    if updated:
        summary += "; baseline updated"
    details = "\n".join(f"{c.metric}: {c.status}: {c.reason}" for c in report.checks if c.reason)
    return CheckOutcome(
        component.name,
        "regression",
        status,
        severity,
        summary=summary,
        details=details,
        metrics=metrics,
        units=units,
        document=dump_document(report),
        baseline_updated=updated,
    )


@register_check("stress")
def stress_check(component: ComponentSpec, spec: CheckSpec, ctx: SuiteContext) -> CheckOutcome:
    """A stress scenario (default ``spike``) on the operation, in a memory-capped child."""
    from memwatch.stress.scenarios import StressOptions, run_stress
    from memwatch.units import parse_duration, parse_size

    options = _options(component, spec)
    threshold = fail_threshold(options, default="major")
    scenarios = options.get("scenarios", ["spike"])
    opts = StressOptions(
        limit=parse_size(options.get("limit", "512 MiB")),
        duration=parse_duration(options.get("duration", "10s")),
    )
    report = run_stress(component.operation, list(scenarios), opts)
    failed = [f"{r.scenario}: {c.name}" for r in report.scenarios for c in r.failed_checks]
    severity: Severity = "major" if failed else "none"
    metrics = {f"{r.scenario}.{k}": v for r in report.scenarios for k, v in r.metrics.items()}
    return CheckOutcome(
        component.name,
        "stress",
        status_for(severity, threshold),
        severity,
        summary=("failed " + ", ".join(failed)) if failed else "all scenarios within their targets",
        metrics=metrics,
        document=dump_document(report),
    )


def _bench(component: ComponentSpec, spec: CheckSpec, ctx: SuiteContext) -> CheckOutcome:
    from memwatch.benchset.history import memory_benchmarks_check

    outcome: CheckOutcome = memory_benchmarks_check(component, spec, ctx)
    return outcome


register_check("bench")(_bench)
