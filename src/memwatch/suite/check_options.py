"""Each built-in check's options, resolved before anything runs.

A check's options are its block in the component over ``checks.<name>`` (see
:func:`memwatch.suite.spec.check_block`), handed to the engine's resolver in
:mod:`memwatch.config.options` (block > config file section > schema defaults): the same
merge as every other door. :func:`preflight` resolves every planned check's options before
the first one runs, so a bad value is a configuration error, not a failed check an hour in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from memwatch.config.lifecycle import component_operation
from memwatch.config.options import (
    GCOptions,
    LeakOptions,
    RegressionOptions,
    StressRunOptions,
    at_level,
    gc_options,
    leak_options,
    regression_options,
    stress_options,
)
from memwatch.errors import ConfigError
from memwatch.suite.checks import SuiteContext
from memwatch.suite.spec import CheckSpec, ComponentSpec, check_block, resolve_target

__all__ = [
    "bench_options",
    "component_call",
    "gc_check_options",
    "leak_check_options",
    "level_option",
    "preflight",
    "regression_check_options",
    "stress_check_options",
]


def level_option(options: dict[str, Any], key: str, level: str, default: Any = None) -> Any:
    """An option that may be one value or a mapping of level -> value."""
    value = at_level(options.get(key), level)
    return default if value is None else value


def component_call(component: ComponentSpec) -> Callable[[], Any]:
    """The component's operation as one call (one lifecycle when it has a factory)."""
    operation = resolve_target(component.operation)
    factory = resolve_target(component.factory) if component.factory else None
    return component_operation(operation, factory)


_LEAK_KEYS = ("max_growth", "iterations", "warmup", "time_budget", "reset_caches", "signals", "attribute")


def leak_check_options(component: ComponentSpec, spec: CheckSpec, ctx: SuiteContext) -> LeakOptions:
    block = check_block(component, spec)
    door = {key: at_level(getattr(block, key), ctx.level) for key in _LEAK_KEYS}
    door["severity"] = block.severity.model_dump(exclude_none=True) if block.severity else None
    return leak_options(door=door, config=ctx.config)


def gc_check_options(component: ComponentSpec, spec: CheckSpec, ctx: SuiteContext) -> GCOptions:
    from memwatch.gcwatch.validator import GCThresholds

    block = check_block(component, spec)
    limits = block.thresholds.model_dump(exclude_none=True) if block.thresholds else None
    options = gc_options(
        door={"iterations": at_level(block.iterations, ctx.level), "thresholds": limits}, config=ctx.config
    )
    GCThresholds(**options.thresholds)  # type: ignore[arg-type]  # limits that contradict each other: before anything runs
    return options


def regression_check_options(
    component: ComponentSpec, spec: CheckSpec, ctx: SuiteContext
) -> RegressionOptions:
    block = check_block(component, spec)
    door = {"samples": at_level(block.samples, ctx.level), "batch": block.batch, "gates": block.gates or None}
    return regression_options(door=door, config=ctx.config, level=ctx.level)


def stress_check_options(component: ComponentSpec, spec: CheckSpec, ctx: SuiteContext) -> StressRunOptions:
    block = check_block(component, spec)
    door = {
        "limit": block.limit,
        "duration": block.duration,
        "timeout": block.timeout,
        "max_rss_growth": block.max_rss_growth,
        "max_vms_growth": block.max_vms_growth,
    }
    return stress_options(door=door, config=ctx.config)


def bench_options(component: ComponentSpec, spec: CheckSpec, ctx: SuiteContext) -> Any:
    from memwatch.benchset.runner import BENCHMARKS, resolve_thresholds

    resolve_thresholds(ctx.config)
    block = check_block(component, spec)
    names = [b.name for b in BENCHMARKS]
    for name in block.only or ():
        if name not in names:
            raise ConfigError(f"only: unknown benchmark {name!r}; known: {', '.join(names)}")
    return block


_PREPARE: dict[str, Callable[[ComponentSpec, CheckSpec, SuiteContext], Any]] = {
    "leaks": leak_check_options,
    "gc": gc_check_options,
    "regression": regression_check_options,
    "stress": stress_check_options,
    "bench": bench_options,
}


def preflight(plan: list[tuple[ComponentSpec, CheckSpec]], ctx: SuiteContext) -> None:
    """Resolve the options of every planned built-in check: a :class:`ConfigError` naming the
    file, the component and the check before anything is measured."""
    for component, spec in plan:
        prepare = _PREPARE.get(spec.name)
        if prepare is None:
            continue
        try:
            prepare(component, spec, ctx)
        except ConfigError as exc:
            where = ctx.config.where("components", component.index, spec.name)
            raise ConfigError(
                f"{where}: components[{component.index}] ({component.name}), check {spec.name}: {exc}"
            ) from None
