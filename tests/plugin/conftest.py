"""Shared helpers for the plugin tests: every generated run gets a quiet ini file.

pytester's in-process runs drop the modules an inner run imported; numpy cannot be
imported twice in one process, so the modules the plugin loads lazily are imported
here, once, before any inner run.
"""

from __future__ import annotations

import importlib

import pytest

import memwatch.plugin.report
import memwatch.plugin.session  # noqa: F401

for _name in (
    "memwatch.sampling.profiler",
    "memwatch.store",
    "memwatch.leaks.runner",
    "memwatch.leaks.watch",
    "memwatch.gcwatch",
    "memwatch.guard",
    "memwatch.stress",
    "memwatch.model.leaks",
    "memwatch.regression.check",
    "memwatch.plugin.regression",
    "memwatch.config.schema",
):
    try:
        importlib.import_module(_name)
    except ImportError:
        pass


#: pytest-memray (installed for the benchmarks) has a limit_memory marker of its own: keep it out;
#: hypothesis' plugin re-imports its core at every in-process run's summary (~1 s): keep it out too
INI = (
    "[pytest]\naddopts = -p no:memray -p no:hypothesispytest\nasyncio_default_fixture_loop_scope = function\n"
)


@pytest.fixture
def pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester
