"""The seed APIs: :class:`MemoryPressureSimulator` and :class:`MemoryStressTester`.

``MemoryPressureSimulator`` holds memory on purpose: ``allocate_memory(mb)``
allocates ``mb`` MB (10**6 bytes, as everywhere in memwatch), writes every page
so it is resident and returns the block, ``release_memory(count)`` drops the ``count``
newest blocks (all by default), ``get_memory_usage()`` is the process RSS in MB (a
float), ``allocations`` the blocks held. It allocates in the calling
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
    """Allocates and releases resident memory in blocks; ``memory_source`` returns RSS bytes.

    ``allocations`` is the list of blocks held (newest last); clearing it releases them all.
    """

    def __init__(self, *, memory_source: Callable[[], float] | None = None) -> None:
        self._source = memory_source or process.rss
        self.allocations: list[bytearray] = []

    @property
    def allocated(self) -> int:
        """Bytes held by this simulator."""
        return sum(len(block) for block in self.allocations)

    @property
    def blocks(self) -> int:
        return len(self.allocations)

    def allocate_memory(self, mb: float) -> bytearray:
        """Allocate ``mb`` MB, touch every page, keep the block and return it.

        Raises MemoryError when the process has no room (under a cap, that is the point).
        """
        if isinstance(mb, bool) or not isinstance(mb, int | float) or not math.isfinite(mb) or mb < 0:
            raise ConfigError(f"invalid size {mb!r} MB: expected a finite number >= 0")
        block = touch(bytearray(round(mb * MB)))
        self.allocations.append(block)
        return block

    def release_memory(self, count: int | None = None) -> int:
        """Release the ``count`` newest blocks (all when None); returns the bytes released."""
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise ConfigError(f"invalid block count {count!r}: expected an integer >= 0")
        n = len(self.allocations) if count is None else min(count, len(self.allocations))
        released = 0
        for _ in range(n):
            released += len(self.allocations.pop())
        return released

    def get_memory_usage(self) -> float:
        """The process's resident memory (RSS) in MB, as a float."""
        return float(self._source()) / MB

    def usage_details(self) -> dict[str, float]:
        """``rss_mb`` (the process), ``allocated_mb`` (this simulator) and ``blocks``."""
        return {
            "rss_mb": self.get_memory_usage(),
            "allocated_mb": self.allocated / MB,
            "blocks": float(len(self.allocations)),
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
