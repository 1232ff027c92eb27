"""memwatch: memory testing and memory protection for Python.

``import memwatch`` is light: the public names below are loaded from their
modules on first use, so pytest, SQLAlchemy, matplotlib and jinja2 (and even
numpy, for the guard and the caches) load only when something needs them.
"""

from __future__ import annotations

import importlib
from typing import Any

from memwatch.errors import (
    CheckFailed,
    ConfigError,
    DataError,
    LeakDetected,
    MemoryLimitExceeded,
    MemwatchError,
    OperationError,
    UnavailableError,
    UsageError,
)
from memwatch.units import format_size, parse_duration, parse_size

__version__ = "0.1.0"

# public name -> module that defines it (loaded on first attribute access)
_LAZY: dict[str, str] = {
    "MemoryProfiler": "memwatch.sampling.profiler",
    "memory_usage": "memwatch.sampling.profiler",
    "Sampler": "memwatch.sampling.sampler",
    "profile": "memwatch.lines.decorator",
    "detect_leaks": "memwatch.leaks.runner",
    "MemoryLeakDetector": "memwatch.leaks.runner",
    "LeakReport": "memwatch.model.leaks",
    "expect_freed": "memwatch.leaks.watch",
    "assert_freed": "memwatch.leaks.watch",
    "GCMonitor": "memwatch.gcwatch",
    "GCPerformanceValidator": "memwatch.gcwatch",
    "GCOptimizer": "memwatch.gcwatch",
    "gc_performance_monitor": "memwatch.gcwatch",
    "MemoryGuard": "memwatch.guard",
    "MemoryAlertSystem": "memwatch.guard",
    "MemoryMonitor": "memwatch.guard",
    "oom_protected": "memwatch.guard",
    "MemoryPressureSimulator": "memwatch.stress",
    "MemoryStressTester": "memwatch.stress",
}

__all__ = [
    "CheckFailed",
    "ConfigError",
    "DataError",
    "GCMonitor",
    "GCOptimizer",
    "GCPerformanceValidator",
    "LeakDetected",
    "LeakReport",
    "MemoryAlertSystem",
    "MemoryGuard",
    "MemoryLeakDetector",
    "MemoryLimitExceeded",
    "MemoryMonitor",
    "MemoryPressureSimulator",
    "MemoryProfiler",
    "MemoryStressTester",
    "MemwatchError",
    "OperationError",
    "Sampler",
    "UnavailableError",
    "UsageError",
    "__version__",
    "assert_freed",
    "detect_leaks",
    "expect_freed",
    "format_size",
    "gc_performance_monitor",
    "memory_usage",
    "oom_protected",
    "parse_duration",
    "parse_size",
    "profile",
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'memwatch' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
