"""GCPerformanceValidator: run an operation, measure its GC cost, check it against thresholds."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from memwatch.config.options import gc_options
from memwatch.errors import ConfigError
from memwatch.gcwatch.latency import measure_latency_async
from memwatch.model.gc import GCCheck, GCReport, GCValidation

__all__ = ["GCPerformanceValidator", "GCThresholds"]

#: the schema's gc limits by GCThresholds name (the schema is their only home)
_DEFAULTS = gc_options().thresholds


@dataclass(frozen=True)
class GCThresholds:
    """Limits a GC report must stay within; None switches a check off.

    The defaults are the ``gc:`` section's (:class:`memwatch.config.schema.GCConfig`: a
    p95 of 100 ms, no uncollectable objects, the rest off). ``max_time_share`` is
    a fraction of wall time (0.05 = 5%); ``max_uncollectable`` counts objects the
    collector could not free. Negative limits, a share above 1 and a p95 limit above
    the max-pause limit are rejected with :class:`~memwatch.errors.ConfigError`.
    """

    max_pause_p95_ms: float | None = _DEFAULTS["max_pause_p95_ms"]
    max_pause_p99_ms: float | None = _DEFAULTS["max_pause_p99_ms"]
    max_pause_ms: float | None = _DEFAULTS["max_pause_ms"]
    max_time_share: float | None = _DEFAULTS["max_time_share"]
    max_collections_per_operation: float | None = _DEFAULTS["max_collections_per_operation"]
    max_uncollectable: int | None = _DEFAULTS["max_uncollectable"]  # type: ignore[assignment]
    min_objects_per_ms: float | None = _DEFAULTS["min_objects_per_ms"]

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ConfigError(f"GC threshold {f.name}={value!r} is not a finite number")
            if value < 0:
                raise ConfigError(f"GC threshold {f.name}={value!r} must not be negative")
        if self.max_time_share is not None and self.max_time_share > 1:
            raise ConfigError(
                f"GC threshold max_time_share={self.max_time_share!r} is a fraction "
                "of wall time and must lie in [0, 1] (0.05 means 5%)"
            )
        ordered = [
            ("max_pause_p95_ms", self.max_pause_p95_ms),
            ("max_pause_p99_ms", self.max_pause_p99_ms),
            ("max_pause_ms", self.max_pause_ms),
        ]
        known = [(name, v) for name, v in ordered if v is not None]
        for (low_name, low), (high_name, high) in itertools.pairwise(known):
            if low > high:
                raise ConfigError(
                    f"GC thresholds make no sense: {low_name}={low:g} is above "
                    f"{high_name}={high:g} (a percentile cannot exceed the maximum)"
                )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> GCThresholds:
        """Build from a mapping, refusing unknown keys with the list of known ones."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(
                f"unknown GC threshold(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}"
            )
        return cls(**dict(values))


def _coerce(thresholds: GCThresholds | Mapping[str, Any] | None) -> GCThresholds:
    if thresholds is None:
        return GCThresholds()
    if isinstance(thresholds, GCThresholds):
        return thresholds
    if isinstance(thresholds, Mapping):
        return GCThresholds.from_mapping(thresholds)
    raise ConfigError(f"thresholds must be GCThresholds or a mapping, got {type(thresholds).__name__}")


class GCPerformanceValidator:
    """Measure an operation's GC frequency and pauses; check a report against thresholds."""

    def __init__(self, thresholds: GCThresholds | Mapping[str, Any] | None = None) -> None:
        self.thresholds = _coerce(thresholds)

    async def test_gc_frequency(
        self, operation_func: Callable[[], Any], iterations: int = 1000, component_name: str = "operation"
    ) -> GCReport:
        """Call ``operation_func`` (sync or async) ``iterations`` times under a monitor.

        Returns the report with ``collections_per_operation`` and ``latency`` filled.
        An exception from the operation raises OperationError (monitor stopped).
        """
        return await measure_latency_async(operation_func, iterations, component=component_name)

    def validate_gc_efficiency(self, metrics: GCReport) -> GCValidation:
        """Check ``metrics`` against the thresholds; every check is listed, pass or fail."""
        t = self.thresholds
        allp = metrics.pauses["all"]
        checks: list[GCCheck] = []

        def check(
            name: str, value: float | None, limit: float | None, text: str, *, at_least: bool = False
        ) -> None:
            if limit is None or value is None:
                return
            passed = value >= limit if at_least else value <= limit
            word = "below" if at_least else "above"
            message = text.format(value=value, limit=limit) + ("" if passed else f" ({word} the limit)")
            checks.append(
                GCCheck(name=name, value=float(value), limit=float(limit), passed=passed, message=message)
            )

        check("pause_p95", allp.p95_ms, t.max_pause_p95_ms, "pause p95 {value:.3f} ms, limit {limit:g} ms")
        check("pause_p99", allp.p99_ms, t.max_pause_p99_ms, "pause p99 {value:.3f} ms, limit {limit:g} ms")
        check("pause_max", allp.max_ms, t.max_pause_ms, "longest pause {value:.3f} ms, limit {limit:g} ms")
        check(
            "time_share", allp.share, t.max_time_share, "GC took {value:.2%} of wall time, limit {limit:.2%}"
        )
        check(
            "collections_per_operation",
            metrics.collections_per_operation,
            t.max_collections_per_operation,
            "{value:.4f} collections per operation, limit {limit:g}",
        )
        unc = metrics.uncollectable
        check(
            "uncollectable",
            float(max(unc.count, unc.garbage_growth)),
            t.max_uncollectable,
            "{value:.0f} uncollectable objects, limit {limit:g}",
        )
        if allp.count:
            check(
                "efficiency",
                metrics.efficiency,
                t.min_objects_per_ms,
                "{value:,.0f} objects reclaimed per ms of pause, minimum {limit:g}",
                at_least=True,
            )
        return GCValidation(component=metrics.component, checks=tuple(checks))
