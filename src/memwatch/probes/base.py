"""What every probe shares: a reading that is either a number or "unavailable".

Both records are named tuples, not dataclasses: the sampling path imports this module,
and ``dataclasses`` imports ``inspect`` (with ``ast``, ``dis``, ``tokenize``), about
1.4 MiB of peak RSS in the profiled process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

from memwatch.errors import UnavailableError

__all__ = ["Reading", "Signal", "unavailable"]

Unit = Literal["bytes", "count", "ratio", "seconds"]


class Reading(NamedTuple):
    """A value with its unit and the source that produced it, or why there is none."""

    value: float | None
    unit: Unit
    source: str
    reason: str = ""

    @property
    def available(self) -> bool:
        return self.value is not None

    def require(self) -> float:
        """The value, or :class:`UnavailableError` with the reason."""
        if self.value is None:
            raise UnavailableError(f"{self.source}: unavailable ({self.reason})")
        return self.value


def unavailable(source: str, reason: str, unit: Unit = "bytes") -> Reading:
    return Reading(None, unit, source, reason)


class Signal(NamedTuple):
    """A named signal the sampler can record: a zero-argument reader and its unit.

    ``read`` returns a number and is meant to be cheap; ``reason`` is non-empty
    when the signal cannot be read on this machine (``read`` then must not be used).
    """

    name: str
    unit: Unit
    read: Callable[[], float]
    reason: str = ""
    description: str = ""

    @property
    def available(self) -> bool:
        return not self.reason
