"""The seed APIs: :class:`MemoryPressureSimulator` and :class:`MemoryStressTester`.

``MemoryPressureSimulator`` holds memory on purpose: ``allocate_memory(mb)``
allocates ``mb`` MB (10**6 bytes, as everywhere in memwatch) and writes every page
so it is resident, ``release_memory(n)`` drops the ``n`` newest blocks (all by
default), ``get_memory_usage()`` reports in MB. It allocates in the calling
process: run it inside a capped child (the stress tester does) or keep the sizes
small. The memory source is injectable for tests.

``MemoryStressTester().test_memory_pressure_scenarios()`` runs the simulator in a
capped child at rising levels until one does not fit (the breaking point) and
scores stability; see :func:`memwatch.stress.analysis.stability_score`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from memwatch.errors import ConfigError
from memwatch.probes import process
from memwatch.stress.measure import touch

if TYPE_CHECKING:
    from memwatch.model.stress import PressureTestResult

__all__ = ["MemoryPressureSimulator", "MemoryStressTester"]

MB = 10**6


class MemoryPressureSimulator:
    """Allocates and releases resident memory in blocks; ``memory_source`` returns RSS bytes."""

    def __init__(self, *, memory_source: Callable[[], float] | None = None) -> None:
        self._source = memory_source or process.rss
        self._blocks: list[bytearray] = []

    @property
    def allocated(self) -> int:
        """Bytes held by this simulator."""
        return sum(len(block) for block in self._blocks)

    @property
    def blocks(self) -> int:
        return len(self._blocks)

    def allocate_memory(self, mb: float) -> int:
        """Allocate ``mb`` MB and touch every page; returns the bytes allocated.

        Raises MemoryError when the process has no room (under a cap, that is the point).
        """
        if isinstance(mb, bool) or not isinstance(mb, int | float) or not math.isfinite(mb) or mb < 0:
            raise ConfigError(f"invalid size {mb!r} MB: expected a finite number >= 0")
        block = touch(bytearray(round(mb * MB)))
        self._blocks.append(block)
        return len(block)

    def release_memory(self, n: int | None = None) -> int:
        """Release the ``n`` newest blocks (all when None); returns the bytes released."""
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            raise ConfigError(f"invalid block count {n!r}: expected an integer >= 0")
        count = len(self._blocks) if n is None else min(n, len(self._blocks))
        released = 0
        for _ in range(count):
            released += len(self._blocks.pop())
        return released

    def get_memory_usage(self) -> dict[str, float]:
        """``rss_mb`` (the process), ``allocated_mb`` (this simulator) and ``blocks``."""
        return {
            "rss_mb": float(self._source()) / MB,
            "allocated_mb": self.allocated / MB,
            "blocks": float(len(self._blocks)),
        }


class MemoryStressTester:
    """Finds the level of memory pressure a capped child cannot take, and scores stability.

    ``levels_mb`` are tried in order, ``cycles`` times each (allocate, release,
    measure), in one child capped at ``limit``.
    """

    def __init__(
        self,
        *,
        limit: str | int = "512MiB",
        levels_mb: Sequence[float] = (32, 64, 128, 256, 512, 1024),
        cycles: int = 3,
        timeout: float = 120.0,
        cap_method: str = "auto",
    ) -> None:
        from memwatch.units import parse_size

        if not levels_mb or any(not math.isfinite(v) or v <= 0 for v in levels_mb):
            raise ConfigError("levels_mb must be a non-empty list of sizes > 0 (in MB)")
        if cycles < 1:
            raise ConfigError(f"cycles must be >= 1, got {cycles}")
        self.limit = parse_size(limit)
        self.levels = tuple(round(v * MB) for v in levels_mb)
        self.cycles = cycles
        self.timeout = timeout
        self.cap_method = cap_method

    def test_memory_pressure_scenarios(self) -> PressureTestResult:
        """Run the levels in a capped child; ``breaking_point_reached`` and ``stability_score``.

        Called inside a running event loop (``await tester.test_memory_pressure_scenarios()``,
        as document 000 writes it) it returns an awaitable that runs the child from a
        worker thread, so the loop keeps running."""
        import functools

        from memwatch.config.lifecycle import Pending, in_running_loop
        from memwatch.stress.seed import run_pressure

        run = functools.partial(
            run_pressure,
            self.levels,
            limit=self.limit,
            cycles=self.cycles,
            timeout=self.timeout,
            cap_method=self.cap_method,
        )
        if in_running_loop():
            import asyncio

            return Pending(asyncio.to_thread(run), "test_memory_pressure_scenarios")  # type: ignore[return-value]
        return run()
