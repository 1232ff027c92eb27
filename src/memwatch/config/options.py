"""One options layer: what every door hands an engine, merged in one place per engine.

Each resolver merges, key by key, the first value given in::

    explicit arguments  >  the door (marker, command line, a validate check block)  >  config file  >  defaults

where a layer's ``None`` means "not given". The defaults are the schema's
(:mod:`memwatch.config.schema`, their only home): a resolver reads them from the
:class:`~memwatch.config.schema.Config` it is given, or from a default ``Config()``.
Every door calls these: the Python API (``detect_leaks``), the CLI (``memwatch leaks``,
``gc``, ``stress``), the pytest plugin (``no_leaks``, ``memory_gc``, the ``memwatch``
fixture) and ``memwatch validate``'s checks, so one config gives one set of options.

Importing this module does not import pydantic (the pytest plugin imports it on its way
to a test); a resolver imports the schema only when it needs the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from memwatch.errors import ConfigError
from memwatch.units import Size, parse_duration, parse_percent, parse_size

if TYPE_CHECKING:
    from memwatch.config.schema import Config, RegressionConfig

__all__ = [
    "GC_LIMIT_KEYS",
    "GCOptions",
    "LeakOptions",
    "RegressionOptions",
    "RegressionThresholds",
    "StressRunOptions",
    "at_level",
    "gc_options",
    "leak_options",
    "regression_options",
    "regression_thresholds",
    "stress_options",
]

_SEVERITY_LEVELS = ("minor", "major", "critical")


@dataclass(frozen=True)
class LeakOptions:
    """What the leak engine runs with (``detect_leaks``' keyword arguments)."""

    max_growth: int
    iterations: int | None
    warmup: int | None
    time_budget: float
    signals: tuple[str, ...] | None
    reset_caches: bool
    attribute: bool
    severity: dict[str, int]

    def as_kwargs(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class GCOptions:
    """What a GC check runs with: calls, and limits by ``GCThresholds`` name (None: off)."""

    iterations: int
    thresholds: dict[str, float | None]


@dataclass(frozen=True)
class RegressionOptions:
    """What validate's regression check measures: ``samples`` of ``batch`` calls, and its gates."""

    samples: int
    batch: int
    gates: tuple[str, ...]


@dataclass(frozen=True)
class RegressionThresholds:
    """The percent change that counts as a regression, per metric (``default`` for the others)."""

    default: float
    per_metric: dict[str, float]

    def percent_for(self, metric: str) -> float:
        return self.per_metric.get(metric, self.default)


@dataclass(frozen=True)
class StressRunOptions:
    """The stress knobs that have a config default: the child's cap, times, cap method."""

    limit: int
    duration: float
    timeout: float
    cap_method: str
    max_rss_growth: int | None = None
    max_vms_growth: int | None = None


#: ``GCThresholds`` name -> the key of the ``gc:`` section that sets it
GC_LIMIT_KEYS: dict[str, str] = {
    "max_pause_p95_ms": "pause_p95_ms",
    "max_pause_p99_ms": "pause_p99_ms",
    "max_pause_ms": "pause_max_ms",
    "max_time_share": "time_share",
    "max_collections_per_operation": "collections_per_operation",
    "max_uncollectable": "uncollectable",
    "min_objects_per_ms": "objects_per_ms",
}


def _config(config: Config | None) -> Config:
    if config is not None:
        return config
    from memwatch.config.schema import Config

    return Config()


def _given(layer: Mapping[str, Any] | None, known: tuple[str, ...], what: str) -> dict[str, Any]:
    """The layer's values that are given (not None); a key the engine does not know is an error."""
    if layer is None:
        return {}
    if not isinstance(layer, Mapping):
        raise ConfigError(f"{what}: options must be a mapping, got {type(layer).__name__}")
    unknown = sorted(set(layer) - set(known))
    if unknown:
        from difflib import get_close_matches

        close = get_close_matches(unknown[0], known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"{what}: unknown option {unknown[0]!r}{hint}; known: {', '.join(known)}")
    return {key: value for key, value in layer.items() if value is not None}


def _merge(layers: list[dict[str, Any]], file: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(file)
    for layer in reversed(layers):  # lowest priority first, so the first layer wins
        out.update(layer)
    return out


def at_level(value: Any, level: str | None) -> Any:
    """A check option that is one value or a mapping of level -> value (None: not set there)."""
    if isinstance(value, Mapping):
        return value.get(level) if level is not None else None
    return value


_LEAK_KEYS = tuple(f.name for f in fields(LeakOptions))


def leak_options(
    explicit: Mapping[str, Any] | None = None,
    door: Mapping[str, Any] | None = None,
    config: Config | None = None,
    *,
    base: LeakOptions | None = None,
) -> LeakOptions:
    """The leak engine's options; ``base`` (already resolved) stands in for the file and defaults.

    ``severity`` merges level by level (a door may set only ``minor``); sizes and durations
    are parsed here, so every door accepts ``"1 MB"`` and ``"500ms"`` alike."""
    layers = [_given(explicit, _LEAK_KEYS, "detect_leaks"), _given(door, _LEAK_KEYS, "leak options")]
    file = base.as_kwargs() if base is not None else _config(config).leaks.model_dump()
    merged = _merge([{k: v for k, v in layer.items() if k != "severity"} for layer in layers], file)
    severity = dict(file["severity"])
    for layer in reversed(layers):
        severity.update(_severity(layer.get("severity")))
    if not severity["minor"] <= severity["major"] <= severity["critical"]:
        raise ConfigError(
            f"severity thresholds must grow: minor {severity['minor']} <= major "
            f"{severity['major']} <= critical {severity['critical']}"
        )
    signals = merged["signals"]
    if isinstance(signals, str):
        raise ConfigError("signals must be a list of names, e.g. ['py_blocks', 'native_heap']")
    return LeakOptions(
        max_growth=Size.parse(merged["max_growth"]),  # keeps the text typed, for the report
        iterations=merged["iterations"],
        warmup=merged["warmup"],
        time_budget=parse_duration(merged["time_budget"]),
        signals=tuple(signals) if signals is not None else None,
        reset_caches=bool(merged["reset_caches"]),
        attribute=bool(merged["attribute"]),
        severity=severity,
    )


def _severity(given: Any) -> dict[str, int]:
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise ConfigError("severity must map minor/major/critical to sizes, e.g. {'minor': '5 MB'}")
    unknown = sorted(set(map(str, given)) - set(_SEVERITY_LEVELS))
    if unknown:
        raise ConfigError(f"unknown severity level(s) {', '.join(unknown)}; use minor, major, critical")
    return {str(level): parse_size(value) for level, value in given.items() if value is not None}


def gc_options(
    explicit: Mapping[str, Any] | None = None,
    door: Mapping[str, Any] | None = None,
    config: Config | None = None,
) -> GCOptions:
    """Calls and limits of a GC check. A layer may hold ``iterations`` and ``thresholds`` (a
    mapping of ``GCThresholds`` names, merged name by name over the ``gc:`` section)."""
    known = ("iterations", "thresholds")
    layers = [_given(explicit, known, "gc options"), _given(door, known, "gc options")]
    section = _config(config).gc
    limits: dict[str, float | None] = {name: getattr(section, key) for name, key in GC_LIMIT_KEYS.items()}
    for layer in reversed(layers):
        limits.update(_given(layer.get("thresholds"), tuple(GC_LIMIT_KEYS), "gc thresholds"))
    merged = _merge(layers, {"iterations": section.iterations})
    return GCOptions(iterations=merged["iterations"], thresholds=limits)


def regression_options(
    explicit: Mapping[str, Any] | None = None,
    door: Mapping[str, Any] | None = None,
    config: Config | None = None,
    *,
    level: str | None = None,
) -> RegressionOptions:
    """Samples, batch and gates of a regression measurement (``samples`` may vary by level)."""
    known = ("samples", "batch", "gates")
    cfg = _config(config)
    section = cfg.regression
    layers = [_given(explicit, known, "regression options"), _given(door, known, "regression options")]
    file = {"samples": at_level(section.samples, level or cfg.level), "batch": section.batch, "gates": ()}
    merged = _merge(layers, file)
    return RegressionOptions(
        samples=int(merged["samples"]), batch=int(merged["batch"]), gates=tuple(merged["gates"])
    )


def regression_thresholds(
    explicit: Mapping[str, Any] | None = None,
    door: Mapping[str, Any] | None = None,
    config: Config | RegressionConfig | None = None,
) -> RegressionThresholds:
    """Per-metric percent thresholds of a regression comparison: ``metric -> percent`` layers
    merged metric by metric over the config's ``regression.thresholds``; metrics none of them
    names use ``regression.severity.minor``. Percents are parsed here (``10``, ``"10%"``)."""
    section = _regression_section(config)
    merged: dict[str, float] = dict(section.thresholds)
    for layer in (door, explicit):  # lowest priority first
        if layer is None:
            continue
        if not isinstance(layer, Mapping):
            raise ConfigError(
                f"regression thresholds must map a metric to a percent, e.g. {{'peak': 10}}, "
                f"got {type(layer).__name__}"
            )
        for metric, value in layer.items():
            if value is None:
                continue
            if not isinstance(metric, str) or not metric:
                raise ConfigError(f"regression thresholds: {metric!r} is not a metric name")
            merged[metric] = parse_percent(value)
    return RegressionThresholds(default=float(section.severity.minor), per_metric=merged)


def _regression_section(config: Config | RegressionConfig | None) -> RegressionConfig:
    from memwatch.config.schema import RegressionConfig

    if isinstance(config, RegressionConfig):
        return config
    return _config(config).regression


def stress_options(
    explicit: Mapping[str, Any] | None = None,
    door: Mapping[str, Any] | None = None,
    config: Config | None = None,
) -> StressRunOptions:
    """The child's memory cap, soak length, per-child timeout and cap method."""
    known = ("limit", "duration", "timeout", "cap_method", "max_rss_growth", "max_vms_growth")
    section = _config(config).stress
    layers = [_given(explicit, known, "stress options"), _given(door, known, "stress options")]
    file = {
        "limit": section.limit,
        "duration": section.duration,
        "timeout": section.timeout,
        "cap_method": section.cap,
        "max_rss_growth": section.max_rss_growth,
        "max_vms_growth": section.max_vms_growth,
    }
    merged = _merge(layers, file)
    growth = {
        key: None if merged[key] is None else parse_size(merged[key])
        for key in ("max_rss_growth", "max_vms_growth")
    }
    return StressRunOptions(
        limit=parse_size(merged["limit"]),
        duration=parse_duration(merged["duration"]),
        timeout=parse_duration(merged["timeout"]),
        cap_method=str(merged["cap_method"]),
        **growth,
    )
