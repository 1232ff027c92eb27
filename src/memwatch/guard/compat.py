"""The seed APIs, as thin faces of :class:`~memwatch.guard.core.MemoryGuard`.

``MemoryAlertSystem`` is an asyncio-style alert loop: ``await start_monitoring()``
checks every ``check_interval`` seconds on the running event loop until
``stop_monitoring()``; handlers are the guard's (sync or async, ``(level, details)``).
``MemoryMonitor`` answers "how much, how much at most, how much is left" in terms
of the budget the guard would use.
"""

from __future__ import annotations

import asyncio
from typing import Any

from memwatch.errors import ConfigError
from memwatch.guard.core import MemoryGuard
from memwatch.guard.dispatch import Handler
from memwatch.guard.source import MemorySource, SystemSource

__all__ = ["MemoryAlertSystem", "MemoryMonitor"]


class MemoryAlertSystem:
    """Alerts at ``warning_threshold`` and ``critical_threshold`` (shares of the budget).

    ``scope="container"`` (the default, as document 001 expects) measures the whole
    container: the cgroup working set against the cgroup limit, else the host's used
    memory against its total (``psutil.virtual_memory().percent``). ``scope="process"``
    measures this process the way :class:`MemoryGuard` does (cgroup, rlimit, or RSS
    against the host). A ``source`` given explicitly wins over ``scope``; ``budget``
    (a size) replaces the container's limit.
    """

    def __init__(
        self,
        warning_threshold: float = 0.7,
        critical_threshold: float = 0.85,
        check_interval: float = 0.1,
        *,
        emergency_threshold: float | None = None,
        cooldown: float = 5.0,
        source: MemorySource | None = None,
        scope: str = "container",
        budget: int | str | None = None,
        **guard_options: Any,
    ) -> None:
        if scope not in ("container", "process"):
            raise ConfigError(f"unknown scope {scope!r}; use 'container' or 'process'")
        if source is None:
            source = SystemSource(budget=budget, usage="container" if scope == "container" else "auto")
        self.scope = scope
        if emergency_threshold is None:
            emergency_threshold = max(0.95, min(1.0, critical_threshold + 0.05))
        self.guard = MemoryGuard(
            warning_threshold,
            critical_threshold,
            emergency_threshold,
            check_interval,
            cooldown,
            source,
            **guard_options,
        )
        self.warning_threshold = warning_threshold
        self.critical_threshold = critical_threshold
        self.check_interval = check_interval
        self._stopped: asyncio.Event | None = None
        self.monitoring = False

    def add_handler(self, handler: Handler) -> None:
        """``handler(level, details)``, sync or async, called on every level change."""
        self.guard.add_handler(handler)

    @property
    def level(self) -> str:
        return str(self.guard.level)

    async def start_monitoring(self) -> None:
        """Check on this event loop until :meth:`stop_monitoring`; returns when stopped."""
        self._stopped = asyncio.Event()
        self.guard._dispatch.loop = asyncio.get_running_loop()
        self.monitoring = True
        try:
            while not self._stopped.is_set():
                self.guard.check()
                try:
                    await asyncio.wait_for(self._stopped.wait(), self.check_interval)
                except TimeoutError:
                    pass
        finally:
            self.monitoring = False
            self.guard._dispatch.loop = None

    def stop_monitoring(self) -> None:
        """Ask :meth:`start_monitoring` to return after the current check."""
        if self._stopped is not None:
            self._stopped.set()


class MemoryMonitor:
    """Current, peak and available memory against the budget, and the percent used."""

    def __init__(self, source: MemorySource | None = None) -> None:
        self.source: MemorySource = source if source is not None else SystemSource(psi=False)
        self._peak = 0

    def _sample(self) -> tuple[int, int]:
        sample = self.source.read()
        self._peak = max(self._peak, sample.usage)
        return sample.usage, sample.budget

    def current(self) -> int:
        """Usage in bytes, in the unit the budget limits (see ``usage_source``)."""
        return self._sample()[0]

    def peak(self) -> int:
        """The highest usage this monitor has read (reads once more first)."""
        self._sample()
        return self._peak

    def reset_peak(self) -> None:
        self._peak = 0

    def available(self) -> int:
        """Bytes left before the budget (never negative)."""
        usage, budget = self._sample()
        return max(0, budget - usage)

    def percent(self) -> float:
        """Usage as a percentage of the budget (0-100, above 100 past the limit)."""
        usage, budget = self._sample()
        return 100.0 * usage / budget if budget > 0 else 0.0

    @property
    def budget(self) -> int:
        return self._sample()[1]

    @property
    def budget_source(self) -> str:
        return self.source.budget_source

    @property
    def usage_source(self) -> str:
        return self.source.usage_source

    def snapshot(self) -> dict[str, Any]:
        usage, budget = self._sample()
        return {
            "current": usage,
            "peak": self._peak,
            "available": max(0, budget - usage),
            "budget": budget,
            "percent": 100.0 * usage / budget if budget > 0 else 0.0,
            "budget_source": self.source.budget_source,
            "usage_source": self.source.usage_source,
        }
