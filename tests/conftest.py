"""Shared test configuration. Area-specific fixtures live next to their tests."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator

import pytest

LINUX = sys.platform.startswith("linux")


@pytest.fixture
def collected() -> None:
    """Start the test with a fully collected heap."""
    gc.collect()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "untraced: measures the interpreter's own allocations, so runs with no trace function "
        "(coverage pauses for it)",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Run an ``untraced`` test body with no trace function: coverage's tracer allocates (one
    tracer per thread started, for one) and so changes what such a test measures. Removing the
    trace functions pauses every coverage collector at once (under xdist a worker has two,
    which pytest-cov's own ``no_cover`` misses)."""
    trace, thread_trace = sys.gettrace(), threading.gettrace()
    if trace is None or item.get_closest_marker("untraced") is None:
        return (yield)
    sys.settrace(None)
    threading.settrace(None)
    try:
        return (yield)
    finally:
        threading.settrace(thread_trace)
        sys.settrace(trace)
