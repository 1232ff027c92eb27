"""A small "container" for document 001's pressure tests, so they can run on a shared machine.

The seed sizes its allocations from ``psutil.virtual_memory()`` (half of what is available,
then 30% more): on this host that is gigabytes. This module stands in for ``psutil`` with the
view from inside a container in which this process already uses 55% (sized when the first
``MemoryAlertSystem`` is made, or at the first reading), and gives a ``MemoryAlertSystem``
whose thresholds are shares of that same container. Usage is the real RSS of this process:
the allocations and the alerts are real; only the container is small.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import psutil as _psutil

from memwatch.guard import MemoryAlertSystem as _MemoryAlertSystem
from memwatch.guard.source import SystemSource
from memwatch.probes import process

_budget: list[int] = []


def budget() -> int:
    if not _budget:
        _budget.append(int(process.rss() / 0.55))
    return _budget[0]


def _virtual_memory() -> Any:
    total, used = budget(), process.rss()
    return SimpleNamespace(
        total=total, available=max(0, total - used), used=used, percent=100.0 * used / total
    )


def MemoryAlertSystem(*args: Any, **kwargs: Any) -> _MemoryAlertSystem:
    _budget.clear()
    source = SystemSource(budget=budget(), usage="rss", psi=False, gpu=False)
    return _MemoryAlertSystem(*args, source=source, **kwargs)


psutil = SimpleNamespace(virtual_memory=_virtual_memory, Process=_psutil.Process)
