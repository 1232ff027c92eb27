"""Levels normal < warning < critical < emergency, with hysteresis and a cooldown.

A threshold is a share of the budget (a float in (0, 1]) or an absolute size (an
int of bytes or text such as ``"3 GiB"``), turned into a share of the current
budget at each check. A level is *entered* when usage reaches its threshold and
*left* only when usage falls ``hysteresis`` below it (0.05: five points of the budget
below a share, five percent below an absolute size), and
never sooner than ``cooldown`` seconds after the last escalation or ladder action:
without both a worker flaps between paused and running at the threshold.

Two more signals can raise the level, never lower it: PSI memory pressure (some
avg10 >= ``psi_warning`` percent gives warning, full avg10 >= ``psi_critical``
gives critical; each is left below half its threshold) and GPU memory (share of
the fullest device against the share thresholds, capped at critical because a GPU
out-of-memory raises an error in the application rather than killing it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from memwatch.errors import ConfigError
from memwatch.model.guard import GuardSample
from memwatch.units import format_size, parse_size

__all__ = ["Level", "LevelPolicy", "LevelTracker", "Threshold", "parse_threshold"]


class Level(StrEnum):
    NORMAL = "normal"
    WARNING = "warning"
    CRITICAL = "critical"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, value: str | Level) -> Level:
        try:
            return cls(value)
        except ValueError:
            raise ConfigError(
                f"unknown level {value!r}; use normal, warning, critical or emergency"
            ) from None


_RANK = {Level.NORMAL: 0, Level.WARNING: 1, Level.CRITICAL: 2, Level.EMERGENCY: 3}
_ALARMS = (Level.WARNING, Level.CRITICAL, Level.EMERGENCY)


@dataclass(frozen=True)
class Threshold:
    """A share of the budget, or an absolute size in bytes (``absolute``)."""

    value: float
    absolute: bool = False

    def share(self, budget: int) -> float:
        if not self.absolute:
            return self.value
        return self.value / budget if budget > 0 else float("inf")

    def describe(self) -> str:
        return format_size(self.value) if self.absolute else f"{self.value:.0%}"


def parse_threshold(value: float | int | str, name: str = "threshold") -> Threshold:
    """A float in (0, 1] is a share of the budget; an int or text is a size."""
    if isinstance(value, bool):
        raise ConfigError(f"{name}: expected a share like 0.85 or a size like '3 GiB', got {value!r}")
    if isinstance(value, float):
        if not 0.0 < value <= 1.0:
            raise ConfigError(f"{name}: a share of the budget must be in (0, 1], got {value!r}")
        return Threshold(value)
    size = parse_size(value)
    if size <= 0:
        raise ConfigError(f"{name}: a size must be positive, got {value!r}")
    return Threshold(float(size), absolute=True)


class LevelPolicy:
    """Turns a sample and the current level into the new level and the reason."""

    def __init__(
        self,
        warning: float | int | str = 0.70,
        critical: float | int | str = 0.85,
        emergency: float | int | str = 0.95,
        *,
        hysteresis: float = 0.05,
        psi_warning: float | None = 10.0,
        psi_critical: float | None = 30.0,
    ) -> None:
        self.thresholds = {
            Level.WARNING: parse_threshold(warning, "warning"),
            Level.CRITICAL: parse_threshold(critical, "critical"),
            Level.EMERGENCY: parse_threshold(emergency, "emergency"),
        }
        kinds = {t.absolute for t in self.thresholds.values()}
        values = [t.value for t in self.thresholds.values()]
        if len(kinds) == 1 and not values[0] < values[1] < values[2]:
            raise ConfigError(
                f"thresholds must rise: warning < critical < emergency, got "
                f"{warning!r}, {critical!r}, {emergency!r}"
            )
        if not 0.0 <= hysteresis < 0.5:
            raise ConfigError(f"hysteresis must be a share in [0, 0.5), got {hysteresis!r}")
        self.hysteresis = hysteresis
        self.psi_warning = psi_warning
        self.psi_critical = psi_critical

    def _memory(self, sample: GuardSample, current: Level) -> Level:
        frac = sample.fraction
        level = Level.NORMAL
        for candidate in _ALARMS:
            threshold = self.thresholds[candidate]
            enter = threshold.share(sample.budget)
            # a share is left `hysteresis` of the budget below it, a size that share of itself
            leave = enter * (1 - self.hysteresis) if threshold.absolute else enter - self.hysteresis
            if frac >= enter or (candidate.rank <= current.rank and frac >= leave):
                level = candidate
        return level

    def _gpu(self, sample: GuardSample, current: Level) -> Level:
        frac = sample.gpu_fraction
        if frac is None:
            return Level.NORMAL
        level = Level.NORMAL
        for candidate in (Level.WARNING, Level.CRITICAL):
            t = self.thresholds[candidate]
            enter = t.value if not t.absolute else (0.70 if candidate is Level.WARNING else 0.85)
            if frac >= enter or (candidate.rank <= current.rank and frac >= enter - self.hysteresis):
                level = candidate
        return level

    def _psi(self, sample: GuardSample, current: Level) -> Level:
        level = Level.NORMAL
        for candidate, value, limit in (
            (Level.WARNING, sample.psi_some_avg10, self.psi_warning),
            (Level.CRITICAL, sample.psi_full_avg10, self.psi_critical),
        ):
            if value is None or limit is None:
                continue
            if value >= limit or (candidate.rank <= current.rank and value >= limit / 2):
                level = candidate
        return level

    def evaluate(self, sample: GuardSample, current: Level = Level.NORMAL) -> tuple[Level, str]:
        """(level, reason in words) for ``sample`` given the level now in force."""
        mem = self._memory(sample, current)
        psi = self._psi(sample, current)
        gpu = self._gpu(sample, current)
        level = max(mem, psi, gpu, key=lambda lv: lv.rank)
        if level is Level.NORMAL:
            return level, f"usage {sample.fraction:.1%} of the budget"
        if mem is level:
            t = self.thresholds[level]
            return level, (
                f"usage {format_size(sample.usage)} is {sample.fraction:.1%} of the budget "
                f"{format_size(sample.budget)} ({sample.budget_source}); "
                f"{level} at {t.describe()}"
            )
        if psi is level:
            if level is Level.CRITICAL:
                return level, f"PSI full avg10 {sample.psi_full_avg10}% (critical at {self.psi_critical}%)"
            return level, f"PSI some avg10 {sample.psi_some_avg10}% (warning at {self.psi_warning}%)"
        return level, (
            f"GPU memory {format_size(sample.gpu_used or 0)} of "
            f"{format_size(sample.gpu_total or 0)} ({sample.gpu_fraction or 0:.1%})"
        )


class LevelTracker:
    """The level in force: escalates at once, de-escalates only after the cooldown."""

    def __init__(self, policy: LevelPolicy, cooldown: float = 5.0) -> None:
        if cooldown < 0:
            raise ConfigError(f"cooldown must not be negative, got {cooldown!r}")
        self.policy = policy
        self.cooldown = cooldown
        self.level = Level.NORMAL
        self.reason = ""
        self._held_since = float("-inf")

    def note_action(self, now: float) -> None:
        """A ladder action ran: hold the level for another cooldown."""
        self._held_since = now

    def update(self, sample: GuardSample, now: float) -> tuple[Level, Level, str] | None:
        """(new, previous, reason) when the level changes, else None."""
        level, reason = self.policy.evaluate(sample, self.level)
        previous = self.level
        if level is previous:
            self.reason = reason
            return None
        if level.rank < previous.rank and now - self._held_since < self.cooldown:
            return None  # hold: no de-escalation inside the cooldown
        if level.rank > previous.rank:
            self._held_since = now
        self.level, self.reason = level, reason
        return level, previous, reason
