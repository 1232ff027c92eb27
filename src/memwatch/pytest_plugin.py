"""The pytest plugin (thin shell over the library). Registered as the ``memwatch`` pytest11 entry point.

This module only declares: options (one ``memwatch`` group, each with its ini key),
markers and fixtures. The stateful part (:class:`memwatch.plugin.session.MemwatchPlugin`)
is registered only when an option asks for it, or when a collected test carries a
marker or fixture that needs it; a run without either costs one marker scan at
collection and nothing per test.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from memwatch.errors import ConfigError, MemwatchError, UsageError
from memwatch.plugin import keys
from memwatch.plugin.fixtures import (
    assert_freed,
    gc_monitor,
    leak_detector,
    memory_guard,
    memory_pressure,
    memory_profiler,
    memory_snapshots,
    memwatch,
)
from memwatch.plugin.markers import CHECK_MARKERS, marker_names, register_markers
from memwatch.plugin.options import (
    PluginSettings,
    add_options,
    check_db_path,
    check_report_dir,
    read_settings,
)

__all__ = [
    "assert_freed",
    "gc_monitor",
    "leak_detector",
    "memory_guard",
    "memory_pressure",
    "memory_profiler",
    "memory_snapshots",
    "memwatch",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_unconfigure",
]

#: markers and fixtures that make a test need the stateful plugin even without an option
_TRIGGER_MARKERS = CHECK_MARKERS | {"gpu", "memory_gc"}
_TRIGGER_FIXTURES = ("assert_freed",)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    register_markers(config)
    try:
        settings = read_settings(config)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[keys.SETTINGS] = settings
    if settings.active:
        _activate(config, settings)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave the process as the run found it: stop tracemalloc if a measurement started it
    (``--memwatch-tracemalloc``, ``memwatch.measure(tracemalloc=True)``)."""
    recorder = sys.modules.get("memwatch.plugin.recorder")  # not imported: nothing was measured
    if recorder is not None:
        recorder.BodyMeter.release()


def _activate(config: pytest.Config, settings: PluginSettings) -> object:
    plugin = config.pluginmanager.get_plugin(keys.PLUGIN_NAME)
    if plugin is not None:
        return plugin
    from memwatch.plugin.session import MemwatchPlugin

    try:
        controller = not hasattr(config, "workerinput")
        if settings.report_dir and controller:
            check_report_dir(settings.report_dir, config.invocation_params.dir)
        if settings.db_url and importlib.util.find_spec("memwatch.store") is None:
            raise UsageError("--memwatch-db needs memwatch.store, which this memwatch build does not have")
        if settings.db_url and controller:
            check_db_path(settings.db_url, config.invocation_params.dir)
    except MemwatchError as exc:
        raise pytest.UsageError(str(exc)) from None
    plugin = MemwatchPlugin(config, settings)
    config.pluginmanager.register(plugin, keys.PLUGIN_NAME)
    return plugin


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Activate the stateful plugin when a collected test carries a marker or fixture that needs it."""
    if config.pluginmanager.get_plugin(keys.PLUGIN_NAME) is not None:
        return  # active already: it prepares the items itself
    inherited: dict[object, tuple[str, ...]] = {}
    for item in items:
        if not _TRIGGER_MARKERS.isdisjoint(marker_names(item, inherited)) or any(
            name in getattr(item, "fixturenames", ()) for name in _TRIGGER_FIXTURES
        ):
            plugin = _activate(config, config.stash.get(keys.SETTINGS, PluginSettings()))
            plugin.prepare_items(items)  # type: ignore[attr-defined]
            return
