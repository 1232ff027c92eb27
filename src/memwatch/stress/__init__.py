"""Stress and pressure testing in a memory-capped child process.

The public names load on first use, so that the child process, which imports
this package, stays free of numpy and scipy::

    from memwatch.stress import StressOptions, run_stress, run_scenario, run_child
    from memwatch.stress import MemoryStressTester, MemoryPressureSimulator
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "SCENARIOS",
    "MemoryPressureSimulator",
    "MemoryStressTester",
    "StressOptions",
    "run_child",
    "run_scenario",
    "run_stress",
]

_LAZY: dict[str, str] = {
    "MemoryPressureSimulator": "memwatch.stress.simulator",
    "MemoryStressTester": "memwatch.stress.simulator",
    "SCENARIOS": "memwatch.stress.scenarios",
    "StressOptions": "memwatch.stress.scenarios",
    "run_scenario": "memwatch.stress.scenarios",
    "run_stress": "memwatch.stress.scenarios",
    "run_child": "memwatch.stress.child",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'memwatch.stress' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
