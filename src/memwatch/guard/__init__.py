"""The runtime guard: budget-aware levels, a recovery ladder, data preservation, OOM fallback.

Public names: :class:`MemoryGuard`, the seed faces :class:`MemoryAlertSystem` and
:class:`MemoryMonitor`, and :func:`oom_protected`. The parts live in their own
modules (``source``, ``levels``, ``ladder``, ``preserve``, ``core``, ``compat``,
``oom``, ``cuda``; test doubles in ``fakes``). No numpy here: importing the guard is
light. The public names load on first use, so that a module of the package
(``memwatch.guard.cuda``, imported by the stress child on a GPU error) loads alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memwatch._lazy import lazy_exports

if TYPE_CHECKING:
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

_LAZY: dict[str, str] = {
    "EXIT_EMERGENCY": "memwatch.guard.core",
    "Level": "memwatch.guard.levels",
    "MemoryAlertSystem": "memwatch.guard.compat",
    "MemoryGuard": "memwatch.guard.core",
    "MemoryMonitor": "memwatch.guard.compat",
    "OomProtector": "memwatch.guard.oom",
    "classify_oom": "memwatch.guard.oom",
    "oom_protected": "memwatch.guard.oom",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
