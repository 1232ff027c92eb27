"""memwatch: memory testing and memory protection for Python.

``import memwatch`` is light: the public names below are loaded from their
modules on first use, so pytest, SQLAlchemy, matplotlib and jinja2 (and even
numpy, for the guard and the caches) load only when something needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memwatch._lazy import lazy_exports
from memwatch.errors import (
    CheckFailed,
    ConfigError,
    DataError,
    LeakDetected,
    MemwatchError,
    OperationError,
    UnavailableError,
    UsageError,
)

__version__ = "0.1.0"

if TYPE_CHECKING:  # the real names for type checkers; at run time ``__getattr__`` loads them
    from memwatch.benchset.performance import MemoryPerformanceRegression
    from memwatch.gcwatch import GCMonitor, GCOptimizer, GCPerformanceValidator, gc_performance_monitor
    from memwatch.guard import MemoryAlertSystem, MemoryGuard, MemoryMonitor, oom_protected
    from memwatch.leaks.runner import MemoryLeakDetector, detect_leaks
    from memwatch.leaks.watch import assert_freed, expect_freed
    from memwatch.lines.decorator import profile
    from memwatch.model.leaks import LeakReport
    from memwatch.sampling.profiler import MemoryProfiler, memory_usage
    from memwatch.sampling.sampler import Sampler
    from memwatch.stress.simulator import MemoryPressureSimulator, MemoryStressTester
    from memwatch.units import format_size, parse_duration, parse_size

# public name -> module that defines it (loaded on first attribute access); keep in step
# with the TYPE_CHECKING imports above (tests/unit/test_public_api.py checks both)
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
    "MemoryPressureSimulator": "memwatch.stress.simulator",
    "MemoryStressTester": "memwatch.stress.simulator",
    "format_size": "memwatch.units",
    "parse_duration": "memwatch.units",
    "parse_size": "memwatch.units",
    "MemoryPerformanceRegression": "memwatch.benchset.performance",
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
    "MemoryMonitor",
    "MemoryPerformanceRegression",
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


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
