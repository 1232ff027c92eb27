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
            factory, operation, iterations=iterations or 100)
    else:
        report = detect_leaks(operation, iterations=iterations, max_growth=max_growth,
                              time_budget=time_budget,
                              reset_caches=ctx.config.leaks.reset_caches)
    severity: Severity = report.severity if report.leak_detected else "none"
    status = status_for(severity, threshold)
    if report.verdict == "inconclusive":
        status = "warn"
    metrics = {f"growth.{e.signal}": float(e.per_iteration) for e in report.signals}
    units = {f"growth.{e.signal}": e.unit for e in report.signals}
    metrics["bytes_per_1000_calls"] = report.bytes_per_iteration * 1000.0
    units["bytes_per_1000_calls"] = "bytes"
    metrics["iterations"] = float(report.iterations)
    units["iterations"] = "count"
    return CheckOutcome(
        component=component.name, check="leaks", status=status, severity=severity,
        summary=report.summary(), details=report.explain() if report.leak_detected else "",
        metrics=metrics, units=units, document=dump_document(report), charts=_leak_charts(report),
    )


def _leak_charts(report: Any) -> tuple[Chart, ...]:
    charts = []
    for unit in ("bytes", "count"):
        series = {e.signal: tuple(float(v) - float(e.samples[0]) for v in e.samples)
                  for e in report.signals if e.unit == unit and len(e.samples) > 1}
        if not series:
            continue
        rounds = max(len(v) for v in series.values())
        charts.append(Chart(
            title=f"Change since the first round ({'bytes' if unit == 'bytes' else 'counts'})",
            x=tuple(float(i) for i in range(rounds)), series=series, unit=unit,
            x_label=f"round ({report.batch_size} calls each)"))
    return tuple(charts)
