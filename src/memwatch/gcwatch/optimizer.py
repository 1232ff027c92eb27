"""GCOptimizer: apply collector tuning (thresholds, ``gc.freeze()``) and restore it exactly."""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from memwatch.errors import ConfigError, UsageError
from memwatch.gcwatch.advisor import advise

__all__ = ["GCOptimizer", "GCState"]


@dataclass(frozen=True)
class GCState:
    """What the optimizer may change: thresholds, automatic collection on/off, frozen objects."""

    thresholds: tuple[int, ...]
    enabled: bool
    frozen: int

    @classmethod
    def read(cls) -> GCState:
        return cls(tuple(gc.get_threshold()), gc.isenabled(), gc.get_freeze_count())


_MAX_THRESHOLD = 2**31 - 1


def _check_thresholds(thresholds: Sequence[int] | None) -> tuple[int, ...] | None:
    if thresholds is None:
        return None
    values = tuple(thresholds)
    if not 1 <= len(values) <= 3:
        raise ConfigError(
            f"thresholds take 1 to 3 integers (threshold0, threshold1, threshold2), got {values!r}"
        )
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ConfigError(f"GC threshold {v!r} must be a non-negative integer (0 disables that level)")
        if v > _MAX_THRESHOLD:  # gc.set_threshold takes a C int
            raise ConfigError(f"GC threshold {v!r} is too large (at most {_MAX_THRESHOLD:,})")
    return values


class GCOptimizer:
    """Apply GC tuning between ``start()`` and ``stop()`` (or as a context manager).

    ``thresholds`` go to ``gc.set_threshold``; ``freeze=True`` runs a full collection
    (unless ``collect_before_freeze=False``) and ``gc.freeze()``, for use after
    warm-up, when the long-lived objects exist. ``stop()`` restores the thresholds,
    the enabled state and the freeze state exactly as ``start()`` found them, also
    when the workload raised. Because ``gc.unfreeze()`` cannot tell whose objects it
    unfreezes, ``freeze=True`` refuses to start while objects are already frozen.
    """

    advise = staticmethod(advise)

    def __init__(
        self,
        thresholds: Sequence[int] | None = None,
        *,
        freeze: bool = False,
        collect_before_freeze: bool = True,
    ) -> None:
        self.thresholds = _check_thresholds(thresholds)
        self.freeze = bool(freeze)
        self.collect_before_freeze = collect_before_freeze
        self.saved: GCState | None = None
        self.frozen_objects = 0

    @property
    def active(self) -> bool:
        return self.saved is not None

    def start(self) -> Self:
        if self.saved is not None:
            raise UsageError("GCOptimizer is already started; stop() it before starting again")
        saved = GCState.read()
        if self.freeze and saved.frozen:
            raise UsageError(
                f"{saved.frozen:,} objects are already frozen (gc.freeze() was called "
                "elsewhere); GCOptimizer(freeze=True) could not restore that state exactly"
            )
        try:
            if self.thresholds is not None:
                gc.set_threshold(*self.thresholds)
            if self.freeze:
                if self.collect_before_freeze:
                    gc.collect()
                gc.freeze()
                self.frozen_objects = gc.get_freeze_count()
        except BaseException:
            _restore(saved, unfreeze=self.freeze)
            raise
        self.saved = saved
        return self

    def stop(self) -> GCState:
        """Restore what ``start()`` found; returns that state. UsageError without start."""
        if self.saved is None:
            raise UsageError("GCOptimizer.stop() called without start()")
        saved, self.saved = self.saved, None
        _restore(saved, unfreeze=self.freeze)
        return saved

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.saved is not None:
            self.stop()


def _restore(state: GCState, *, unfreeze: bool) -> None:
    if unfreeze:
        gc.unfreeze()
    gc.set_threshold(*state.thresholds)
    if state.enabled:
        gc.enable()
    else:
        gc.disable()
