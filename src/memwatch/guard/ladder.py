"""The recovery ladder: strategies tried in order, each re-checked before the next.

At a level L the ladder runs, in order of their level and then of addition, the
strategies whose level is at most L and whose own cooldown has passed. After each
one the source is read again and the level re-evaluated; strategies above the
new level are skipped and the walk stops once the level is back to normal. A
strategy that returns ``False`` says it did nothing (throttled, nothing to do):
it is not counted, and the next one runs without a re-read.

Built-ins, added by name (``guard.add_strategy("gc")``), with their default level:

- ``gc`` (warning): ``gc.collect()``, throttled to at most 5% of wall time and once a second;
- ``malloc_trim`` (warning): glibc ``malloc_trim(0)`` returns freed heap to the OS;
- ``clear_caches`` (warning): :mod:`memwatch.blocks.reclaim` shrinks registered caches by half at
  warning and clears them at critical and above;
- ``cuda_empty_cache`` (warning): ``torch.cuda.empty_cache()`` and CuPy pools'
  ``free_all_blocks()``, only for modules the application already imported;
- ``pause_intake`` (critical): clears a ``threading.Event`` (or calls ``fn(True)``); the
  undo sets it again (``fn(False)``) when the level falls below critical;
- ``shutdown`` (emergency): added by the guard itself: flush preserved buffers, run the
  shutdown hooks, exit (see :mod:`memwatch.guard.core`).
"""

from __future__ import annotations

import gc
import inspect
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from memwatch.errors import ConfigError
from memwatch.guard.levels import Level
from memwatch.model.guard import ActionOutcome, GuardSample

__all__ = ["BUILTINS", "RecoveryLadder", "Strategy", "ThrottledGC", "builtin_strategy"]

_log = logging.getLogger("memwatch.guard")

StrategyFn = Callable[..., Any]


@dataclass
class Strategy:
    """One rung: ``fn()`` or ``fn(level)``; ``undo()`` runs when the level falls below ``level``."""

    name: str
    fn: StrategyFn
    level: Level
    cooldown: float
    undo: Callable[[], Any] | None = None
    takes_level: bool = False
    last_run: float = float("-inf")
    active: bool = False
    runs: int = 0
    errors: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def call(self, level: Level) -> Any:
        return self.fn(level) if self.takes_level else self.fn()


class ThrottledGC:
    """``gc.collect()`` that spends at most ``max_duty`` of wall time and waits ``min_interval``."""

    def __init__(
        self, max_duty: float = 0.05, min_interval: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_duty = max_duty
        self.min_interval = min_interval
        self.clock = clock
        self.next_allowed = float("-inf")
        self.collected = 0

    def __call__(self) -> bool:
        now = self.clock()
        if now < self.next_allowed:
            return False
        start = time.perf_counter()
        self.collected += gc.collect()
        took = time.perf_counter() - start
        self.next_allowed = now + max(self.min_interval, took / self.max_duty)
        return True


def _malloc_trim() -> bool:
    from memwatch.probes.native import malloc_trim

    return malloc_trim(0) is not None


def _clear_caches(level: Level) -> int:
    from memwatch.blocks import reclaim

    if level.rank >= Level.CRITICAL.rank:
        return reclaim.clear_all()
    return reclaim.shrink_all(0.5)


def cuda_empty_cache() -> bool:
    """Free cached GPU blocks of torch and CuPy when the application imported them."""
    done = False
    torch = sys.modules.get("torch")
    if torch is not None:
        cuda = getattr(torch, "cuda", None)
        if cuda is not None and cuda.is_available():
            cuda.empty_cache()
            done = True
    cupy = sys.modules.get("cupy")
    if cupy is not None:
        cupy.get_default_memory_pool().free_all_blocks()
        cupy.get_default_pinned_memory_pool().free_all_blocks()
        done = True
    return done


def _pause_pair(target: Any) -> tuple[Callable[[], Any], Callable[[], Any]]:
    if target is None:
        raise ConfigError(
            "strategy 'pause_intake' needs a target: a threading.Event that is set "
            "while intake runs, or a function fn(paused: bool)"
        )
    if hasattr(target, "set") and hasattr(target, "clear") and hasattr(target, "is_set"):
        return target.clear, target.set
    if callable(target):
        return (lambda: target(True)), (lambda: target(False))
    raise ConfigError(f"pause_intake target must be an Event or a function, got {type(target).__name__}")


BUILTINS: dict[str, Level] = {
    "gc": Level.WARNING,
    "malloc_trim": Level.WARNING,
    "clear_caches": Level.WARNING,
    "cuda_empty_cache": Level.WARNING,
    "pause_intake": Level.CRITICAL,
    "shutdown": Level.EMERGENCY,
}


def builtin_strategy(
    name: str, target: Any = None, clock: Callable[[], float] = time.monotonic
) -> tuple[StrategyFn, Callable[[], Any] | None]:
    """(fn, undo) of a built-in strategy; ``shutdown`` is built by the guard itself."""
    if name == "gc":
        return ThrottledGC(clock=clock), None
    if name == "malloc_trim":
        return _malloc_trim, None
    if name == "clear_caches":
        return _clear_caches, None
    if name == "cuda_empty_cache":
        return cuda_empty_cache, None
    if name == "pause_intake":
        return _pause_pair(target)
    raise ConfigError(f"unknown built-in strategy {name!r}; built-ins: {', '.join(BUILTINS)}")


def _takes_argument(fn: StrategyFn) -> bool:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    return any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) and p.default is p.empty
        for p in params
    )


class RecoveryLadder:
    """Ordered strategies; :meth:`run` walks them for a level, :meth:`relax` undoes."""

    def __init__(self, cooldown: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.cooldown = cooldown
        self.clock = clock
        self.strategies: list[Strategy] = []

    def add(
        self,
        name: str,
        fn: Any = None,
        level: str | Level | None = None,
        *,
        cooldown: float | None = None,
        undo: Callable[[], Any] | None = None,
        target: Any = None,
    ) -> Strategy:
        if any(s.name == name for s in self.strategies):
            raise ConfigError(f"a strategy named {name!r} is already on the ladder")
        if fn is None:
            fn, builtin_undo = builtin_strategy(name, target, self.clock)
            undo = undo or builtin_undo
            level = level or BUILTINS[name]
        elif name == "pause_intake" or not callable(fn):
            fn, undo = _pause_pair(fn)  # an Event, or fn(paused: bool)
            level = level or Level.CRITICAL
        strategy = Strategy(
            name,
            fn,
            Level.parse(level or Level.WARNING),
            self.cooldown if cooldown is None else cooldown,
            undo,
            _takes_argument(fn),
        )
        if strategy.level is Level.NORMAL:
            raise ConfigError(f"strategy {name!r}: level must be warning, critical or emergency")
        self.strategies.append(strategy)
        return strategy

    def remove(self, name: str) -> None:
        self.strategies = [s for s in self.strategies if s.name != name]

    def ordered(self) -> list[Strategy]:
        return sorted(self.strategies, key=lambda s: s.level.rank)  # stable: addition order

    def run(
        self,
        level: Level,
        sample: GuardSample,
        recheck: Callable[[], tuple[GuardSample, Level]],
        *,
        force: bool = False,
    ) -> tuple[list[ActionOutcome], GuardSample, Level]:
        """Walk the rungs for ``level``; returns the outcomes, the last sample and level."""
        outcomes: list[ActionOutcome] = []
        for strategy in self.ordered():
            if level is Level.NORMAL:
                break
            if strategy.level.rank > level.rank:
                continue
            now = self.clock()
            if not force and now - strategy.last_run < strategy.cooldown:
                continue
            start = time.perf_counter()
            error = ""
            try:
                result = strategy.call(level)
            except Exception as exc:
                strategy.errors += 1
                error = f"{type(exc).__name__}: {exc}"
                _log.warning("memwatch guard: strategy %r failed", strategy.name, exc_info=True)
                result = None
            if result is False and not error:
                continue
            strategy.last_run, strategy.active = now, True
            strategy.runs += 1
            took = time.perf_counter() - start
            ran_at = level
            after, level = recheck()
            outcomes.append(
                ActionOutcome(now, strategy.name, str(ran_at), sample.usage, after.usage, took, error)
            )
            sample = after
        return outcomes, sample, level

    def relax(self, level: Level) -> list[str]:
        """Undo active strategies whose level is above ``level``; returns their names."""
        undone = []
        for strategy in self.strategies:
            if strategy.active and strategy.level.rank > level.rank:
                strategy.active = False
                if strategy.undo is not None:
                    try:
                        strategy.undo()
                    except Exception:
                        strategy.errors += 1
                        _log.warning("memwatch guard: undo of %r failed", strategy.name, exc_info=True)
                    undone.append(strategy.name)
        return undone
