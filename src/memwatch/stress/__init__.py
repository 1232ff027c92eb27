"""Stress and pressure testing in a memory-capped child process.

The public names load on first use, so that the child process, which imports
this package, stays free of numpy and scipy::

    from memwatch.stress import StressOptions, run_stress, run_scenario, run_child
    from memwatch.stress import MemoryStressTester, MemoryPressureSimulator
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memwatch._lazy import lazy_exports

if TYPE_CHECKING:  # the real names for type checkers; at run time they load on first use
    from memwatch.stress.child import run_child
    from memwatch.stress.scenarios import SCENARIOS, StressOptions, run_scenario, run_stress
    from memwatch.stress.simulator import MemoryPressureSimulator, MemoryStressTester

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


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
