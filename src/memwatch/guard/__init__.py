"""The runtime guard: budget-aware levels, a recovery ladder, data preservation, OOM fallback.

Public names: :class:`MemoryGuard`, the seed faces :class:`MemoryAlertSystem` and
:class:`MemoryMonitor`, and :func:`oom_protected`. The parts live in their own
modules (``source``, ``levels``, ``ladder``, ``preserve``, ``core``, ``compat``,
``oom``; test doubles in ``fakes``). No numpy here: importing the guard is light.
"""

from __future__ import annotations

from memwatch.guard.compat import MemoryAlertSystem, MemoryMonitor
from memwatch.guard.core import EXIT_EMERGENCY, MemoryGuard
from memwatch.guard.levels import Level
from memwatch.guard.oom import OomProtector, classify_oom, oom_protected

__all__ = [
    "EXIT_EMERGENCY",
    "Level",
    "MemoryAlertSystem",
    "MemoryGuard",
    "MemoryMonitor",
    "OomProtector",
    "classify_oom",
    "oom_protected",
]
