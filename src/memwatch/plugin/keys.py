"""Typed stash keys: the per-test and per-session state the plugin keeps on pytest objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from memwatch.plugin.markers import MEMWATCH_MARKERS, CheckSpecs

if TYPE_CHECKING:
    from memwatch.model.pytest import CheckOutcome
    from memwatch.plugin.checks import LeakResult  # noqa: F401
    from memwatch.plugin.options import PluginSettings  # noqa: F401
    from memwatch.plugin.recorder import BodyFigures  # noqa: F401

__all__ = [
    "CALL_OUTCOME",
    "CHECKS",
    "FIGURES",
    "LEAK_RESULT",
    "MARKERS",
    "MARKER_ERROR",
    "OUTCOMES",
    "PLUGIN_NAME",
    "PROFILE",
    "RECORDED_MARKERS",
    "SETTINGS",
    "WATCHER",
]

#: the name the stateful plugin object is registered under
PLUGIN_NAME = "memwatch-session"

#: markers whose names are kept in a test's record
RECORDED_MARKERS = MEMWATCH_MARKERS

SETTINGS = pytest.StashKey["PluginSettings"]()
CHECKS = pytest.StashKey[CheckSpecs]()
MARKER_ERROR = pytest.StashKey[str]()
MARKERS = pytest.StashKey[tuple[str, ...]]()
FIGURES = pytest.StashKey["BodyFigures"]()
LEAK_RESULT = pytest.StashKey["LeakResult"]()
OUTCOMES = pytest.StashKey[tuple["CheckOutcome", ...]]()
CALL_OUTCOME = pytest.StashKey[str]()
PROFILE = pytest.StashKey[dict[str, Any]]()
#: the assert_freed fixture's watcher (an object with ``outcome() -> CheckOutcome``)
WATCHER = pytest.StashKey[Any]()
