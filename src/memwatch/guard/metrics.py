"""The guard's counters and gauges: a dict always, Prometheus with the ``prometheus`` extra.

Names are flat; a dotted suffix is a label value (``alerts.warning`` is the
counter ``alerts`` with ``level="warning"``). Exported through prometheus-client
as ``memwatch_guard_<name>_total`` (counters) and ``memwatch_guard_<name>`` (gauges),
read on each scrape, so nothing is duplicated or goes stale.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from memwatch.errors import UnavailableError
from memwatch.model.guard import GuardSample

__all__ = ["LABELS", "GuardMetrics", "prometheus_collector", "record_sample"]

_log = logging.getLogger("memwatch.guard")

# counter family -> its label name
LABELS = {
    "alerts": "level",
    "strategy_runs": "strategy",
    "strategy_errors": "strategy",
    "memory_events": "event",
    "ooms": "kind",
    "fallbacks": "function",
}


class GuardMetrics:
    """Thread-safe counters (only grow) and gauges (last value)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counters: dict[str, float] = {}
        self.gauges: dict[str, float] = {}

    def inc(self, name: str, by: float = 1.0) -> None:
        with self._lock:
            self.counters[name] = self.counters.get(name, 0.0) + by

    def set(self, name: str, value: float) -> None:
        self.gauges[name] = value  # a single dict store is atomic under the GIL

    def as_dict(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {"counters": dict(self.counters), "gauges": dict(self.gauges)}


def record_sample(m: GuardMetrics, sample: GuardSample, peak: int) -> None:
    """Gauges from one reading; ``memory.events`` increases as counters (warned when bad)."""
    m.set("usage_bytes", float(sample.usage))
    m.set("budget_bytes", float(sample.budget))
    m.set("usage_fraction", sample.fraction)
    m.set("peak_bytes", float(peak))
    if sample.psi_some_avg10 is not None:
        m.set("psi_some_avg10", sample.psi_some_avg10)
    if sample.psi_full_avg10 is not None:
        m.set("psi_full_avg10", sample.psi_full_avg10)
    if sample.gpu_used is not None:
        m.set("gpu_used_bytes", float(sample.gpu_used))
    for event, delta in sample.events.items():
        m.inc(f"memory_events.{event}", float(delta))
        if event in ("oom_kill", "oom", "max") and delta > 0:
            _log.warning("memwatch guard: memory.events %s +%d in the group", event, delta)


def _families(snapshot: dict[str, dict[str, float]], prefix: str) -> Iterator[Any]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    for kind, factory in (("counters", CounterMetricFamily), ("gauges", GaugeMetricFamily)):
        grouped: dict[str, list[tuple[str, float]]] = {}
        for key, value in sorted(snapshot[kind].items()):
            base, _, label = key.partition(".")
            grouped.setdefault(base, []).append((label, value))
        for base, items in grouped.items():
            label_name = LABELS.get(base, "")
            labelled = bool(label_name) and any(label for label, _ in items)
            family = factory(
                f"{prefix}_{base}",
                f"memwatch guard {kind[:-1]} {base}",
                labels=[label_name] if labelled else None,
            )
            for label, value in items:
                if labelled:
                    family.add_metric([label or "all"], value)
                else:
                    family.add_metric([], value)
            yield family


def prometheus_collector(metrics: GuardMetrics, registry: Any = None, prefix: str = "memwatch_guard") -> Any:
    """Register a collector for ``metrics`` on ``registry`` (the default registry if None)."""
    try:
        import prometheus_client
    except ImportError:
        raise UnavailableError(
            "Prometheus export needs prometheus-client: pip install 'memwatch[prometheus]'"
        ) from None

    class _Collector:
        def collect(self) -> Iterator[Any]:
            return _families(metrics.as_dict(), prefix)

    collector = _Collector()
    (registry if registry is not None else prometheus_client.REGISTRY).register(collector)
    return collector
