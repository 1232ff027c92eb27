"""Typed stash keys and the per-test state the plugin keeps on pytest objects.

One :class:`ItemState` per test (``item.stash[STATE]``) holds everything the hooks and
fixtures share about it, so that each hook reads the stash once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from memwatch.plugin.markers import MEMWATCH_MARKERS

if TYPE_CHECKING:
    from memwatch.model.pytest import CheckOutcome
    from memwatch.plugin.checks import LeakResult
    from memwatch.plugin.freed import FreedWatch
    from memwatch.plugin.options import PluginSettings  # noqa: F401
    from memwatch.plugin.specs import CheckSpecs

__all__ = [
    "PLUGIN_NAME",
    "RECORDED_MARKERS",
    "SETTINGS",
    "STATE",
    "ItemState",
    "find_state",
    "has_checks",
    "state_of",
]

#: the name the stateful plugin object is registered under
PLUGIN_NAME = "memwatch-session"

#: markers whose names are kept in a test's record
RECORDED_MARKERS = MEMWATCH_MARKERS


class ItemState:
    """What memwatch knows about one test: its markers, its checks, its verdicts."""

    __slots__ = ("checks", "leak", "marker_error", "markers", "outcomes", "profile", "watcher")

    def __init__(self) -> None:
        self.checks: CheckSpecs | None = None  # its checking markers, parsed
        self.marker_error: str | None = None
        self.markers: tuple[str, ...] = ()
        self.leak: LeakResult | None = None
        self.outcomes: tuple[CheckOutcome, ...] = ()
        self.watcher: FreedWatch | None = None
        self.profile: dict[str, Any] | None = None


SETTINGS = pytest.StashKey["PluginSettings"]()
STATE = pytest.StashKey[ItemState]()


def find_state(item: pytest.Item) -> ItemState | None:
    """The test's state, or None (without the exception ``Stash.get`` raises inside: this
    runs for every test under ``--memwatch``)."""
    stash = item.stash
    return stash[STATE] if STATE in stash else None  # noqa: SIM401


def has_checks(state: ItemState | None) -> bool:
    """True when the test has a checking marker (``limit_memory``, ``no_leaks``, ...)."""
    return state is not None and state.checks is not None and state.checks.any


def state_of(item: pytest.Item) -> ItemState:
    """The test's state, created on first use."""
    state = item.stash.get(STATE, None)
    if state is None:
        state = item.stash[STATE] = ItemState()
    return state
