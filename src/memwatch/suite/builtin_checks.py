"""The built-in checks: thin adapters from a component to memwatch's engines.

Each check resolves its options (:mod:`memwatch.suite.check_options`: its block over the
config file's section over the schema's defaults), calls the component the one way
(:mod:`memwatch.config.lifecycle`: sync or async, with or without a factory) and lets the
policy (:mod:`memwatch.suite.policy`) turn the finding into a status.
"""

from __future__ import annotations

import asyncio
from typing import Any

from memwatch.config.lifecycle import is_async_callable, sync_calls
from memwatch.model.base import dump_document
from memwatch.model.suite import Chart, CheckOutcome, Severity
from memwatch.suite.check_options import (
    bench_options,
    component_call,
    gc_check_options,
    leak_check_options,
    regression_check_options,
    stress_check_options,
)
from memwatch.suite.checks import SuiteContext, register_check
from memwatch.suite.policy import SEVERITY_ORDER, status_for
from memwatch.suite.spec import CheckSpec, ComponentSpec, check_block

__all__ = ["leaks_check"]


@register_check("leaks")
def leaks_check(component: ComponentSpec, spec: CheckSpec, ctx: SuiteContext) -> CheckOutcome:
    """Leak detection on the component's operation (one lifecycle per call with a factory)."""
    from memwatch.leaks.runner import detect_leaks

    fail_on = check_block(component, spec).fail_on
    report = detect_leaks(component_call(component), options=leak_check_options(component, spec, ctx))
    severity: Severity = report.severity if report.leak_detected else "none"
    status = status_for(severity, fail_on, over_budget=not report.passed)
    if report.verdict == "inconclusive" and status == "pass":
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
    """GC pauses and frequency of the operation, against ``gc:`` and the check's ``thresholds``."""
    from memwatch.gcwatch.latency import measure_latency, measure_latency_async
    from memwatch.gcwatch.validator import GCPerformanceValidator

    fail_on = check_block(component, spec).fail_on
    options = gc_check_options(component, spec, ctx)
    call = component_call(component)
    if is_async_callable(call):
        report = asyncio.run(measure_latency_async(call, options.iterations, component=component.name))
    else:
        report = measure_latency(call, options.iterations, component=component.name)
    verdict = GCPerformanceValidator(options.thresholds).validate_gc_efficiency(report)
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
        status=status_for(severity, fail_on, over_budget=not verdict.passed),
        severity=severity,
        summary=failures or report.summary().splitlines()[0],
        details=report.summary(),
        metrics=metrics,
        units=units,
        document=dump_document(report),
        charts=charts,
    )


@register_check("regression")
def regression_check(component: ComponentSpec, spec: CheckSpec, ctx: SuiteContext) -> CheckOutcome:
    """Peak and retained growth per call, against this environment's baseline in the store.

    Without a baseline the measurement becomes the baseline; a confirmed improvement
    replaces it (``regression.auto_update_baselines``). Without a store it only measures.
    """
    from memwatch.model.history import ResultRow
    from memwatch.regression.abtest import METRIC_UNITS, measure_operation
    from memwatch.regression.check import check_regressions, parse_gates

    fail_on = check_block(component, spec).fail_on
    options = regression_check_options(component, spec, ctx)
    with sync_calls(component_call(component)) as call:
        measured = measure_operation(call, samples=options.samples, batch=options.batch)
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
        gates=options.gates,
    )
    updated = False
    for c in report.checks:
        if c.status == "new" or (c.update_baseline and ctx.config.regression.auto_update_baselines):
            ctx.store.set_baseline(
                test_id, c.metric, c.unit, c.current, env=ctx.environment, source=f"validate {ctx.level}"
            )
            updated = True
    regressed = [c for c in report.checks if c.status == "regressed"]
    severity: Severity = max((c.severity for c in regressed), key=SEVERITY_ORDER.index, default="none")
    status = status_for(severity, fail_on, over_budget=any(c.gates_failed for c in report.checks))
    summary = ", ".join(
        f"{c.metric} {c.status}" + (f" ({c.severity})" if c.status == "regressed" else "")
        for c in report.checks
    )
    if report.unmatched_gates:  # a gate that checks nothing must not pass silently
        own = {str(g) for g in parse_gates(options.gates)}
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
    """Stress scenarios (default ``spike``) on the operation, in a memory-capped child; with a
    factory, each call in the child is one component lifecycle."""
    from memwatch.stress.scenarios import StressOptions, run_stress

    block = check_block(component, spec)
    options = stress_check_options(component, spec, ctx)
    opts = StressOptions(
        limit=options.limit,
        duration=options.duration,
        timeout=options.timeout,
        cap_method=options.cap_method,  # type: ignore[arg-type]
        factory=component.factory,
        max_rss_growth=options.max_rss_growth,
        max_vms_growth=options.max_vms_growth,
    )
    report = run_stress(component.operation, list(block.scenarios), opts)
    failed = [f"{r.scenario}: {c.name}" for r in report.scenarios for c in r.failed_checks]
    severity: Severity = "major" if failed else "none"
    status = status_for(severity, block.fail_on, over_budget=bool(failed))
    if status == "pass" and any(r.inconclusive for r in report.scenarios):
        status = "warn"
    metrics = {f"{r.scenario}.{k}": v for r in report.scenarios for k, v in r.metrics.items()}
    return CheckOutcome(
        component.name,
        "stress",
        status,
        severity,
        summary=("failed " + ", ".join(failed)) if failed else "all scenarios within their targets",
        metrics=metrics,
        document=dump_document(report),
    )


def _bench(component: ComponentSpec, spec: CheckSpec, ctx: SuiteContext) -> CheckOutcome:
    """The memory benchmark set (it does not call the component); a failed threshold is over budget."""
    import dataclasses

    from memwatch.benchset.history import memory_benchmarks_check

    block = bench_options(component, spec, ctx)
    narrowed = CheckSpec(spec.name, spec.levels, {"only": list(block.only)} if block.only else {})
    outcome: CheckOutcome = memory_benchmarks_check(dataclasses.replace(component, options={}), narrowed, ctx)
    over = outcome.severity != "none"
    return dataclasses.replace(outcome, status=status_for(outcome.severity, block.fail_on, over_budget=over))


register_check("bench")(_bench)
