"""The plugin's fixtures. Imported by the entry module, so this module stays light:
every engine is imported when a fixture is first used.

- ``memwatch`` (session): a handle with ``detect_leaks``, ``profile`` and ``measure``.
- ``leak_detector``: ``leak_detector(func, *args, **engine_options) -> LeakReport`` and
  ``leak_detector.assert_no_leaks(...)``.
- ``memory_profiler``: a running ``MemoryProfiler`` bound to the test; its result is
  kept in the test's record (and so in the JSON report).
- ``assert_freed``: ``assert_freed(obj, label=None)``; the test fails, with the
  retention path, when a watched object survives the end of the test body.
- ``memory_snapshots``: a :class:`memwatch.snapshots.SnapshotSession` (take, top, compare,
  most_common_types, type_growth since the test began, plot); tracemalloc is stopped after
  the test when the fixture started it.
- ``gc_monitor``, ``memory_guard``, ``memory_pressure``: the GC monitor and the guard,
  skipped with the reason where this build lacks them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from memwatch.plugin import keys
from memwatch.plugin.freed import FreedWatch

__all__ = [
    "FIXTURE_NAMES",
    "LeakDetector",
    "Measurement",
    "MemwatchHandle",
    "assert_freed",
    "gc_monitor",
    "leak_detector",
    "memory_guard",
    "memory_pressure",
    "memory_profiler",
    "memory_snapshots",
    "memwatch",
]

FIXTURE_NAMES = frozenset(
    {
        "memwatch",
        "leak_detector",
        "memory_profiler",
        "memory_snapshots",
        "assert_freed",
        "gc_monitor",
        "memory_guard",
        "memory_pressure",
    }
)


def _require(module: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{what} needs {module}, which this memwatch build does not have")


class Measurement:
    """Filled in when a ``memwatch.measure()`` block ends: ``peak``/``growth`` bytes, ``duration``."""

    peak: int = 0
    growth: int = 0
    duration: float = 0.0
    peak_source: str = ""
    python_peak: int | None = None


class MemwatchHandle:
    """The session handle behind the ``memwatch`` fixture."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def detect_leaks(self, func: Callable[..., Any], *args: Any, **options: Any) -> Any:
        """``memwatch.leaks.runner.detect_leaks(func, args, **options)``, [tool.memwatch] defaults."""
        from memwatch.leaks.runner import detect_leaks
        from memwatch.plugin.leakloop import engine_options, run_config
        from memwatch.plugin.specs import LeakSpec

        return detect_leaks(
            func, args, options=engine_options(LeakSpec(), run_config(self.config)), **options
        )

    def profile(self, **options: Any) -> Any:
        """A new ``MemoryProfiler(**options)``; use it as a context manager."""
        from memwatch.sampling.profiler import MemoryProfiler

        return MemoryProfiler(**options)

    @contextmanager
    def measure(self, *, tracemalloc: bool = False) -> Iterator[Measurement]:
        """Measure a block like a test body: peak RSS over its start, growth and duration."""
        from memwatch.plugin.recorder import BodyMeter

        meter = BodyMeter(python=tracemalloc)
        out = Measurement()
        meter.start()
        try:
            yield out
        finally:
            figures = meter.stop()
            out.peak, out.growth, out.duration = figures.peak, figures.growth, figures.duration
            out.peak_source, out.python_peak = figures.peak_source, figures.python_peak


class LeakDetector:
    """The ``leak_detector`` fixture: run the leak engine on an operation of the test."""

    def __init__(self, handle: MemwatchHandle) -> None:
        self._handle = handle

    def __call__(self, func: Callable[..., Any], *args: Any, **options: Any) -> Any:
        return self._handle.detect_leaks(func, *args, **options)

    def assert_no_leaks(self, func: Callable[..., Any], *args: Any, **options: Any) -> Any:
        """Run the engine and raise ``memwatch.LeakDetected`` (with its explanation) on a leak."""
        report = self(func, *args, **options)
        report.raise_for_leaks()
        return report


@pytest.fixture(scope="session")
def memwatch(pytestconfig: pytest.Config) -> MemwatchHandle:
    """memwatch's session handle: ``detect_leaks(func, *args, **options)``, ``profile()``, ``measure()``."""
    return MemwatchHandle(pytestconfig)


@pytest.fixture
def leak_detector(memwatch: MemwatchHandle) -> LeakDetector:
    """``leak_detector(func, *args, **options) -> LeakReport``; ``.assert_no_leaks(...)`` raises on a leak."""
    return LeakDetector(memwatch)


@pytest.fixture
def memory_profiler(request: pytest.FixtureRequest) -> Generator[Any, None, None]:
    """A running MemoryProfiler bound to this test (phases, timeline); kept in the test's record."""
    _require("memwatch.sampling.profiler", "memory_profiler")
    from memwatch.sampling.profiler import MemoryProfiler

    profiler = MemoryProfiler()
    profiler.start()
    try:
        yield profiler
    finally:
        keys.state_of(request.node).profile = profiler.stop().to_dict()


@pytest.fixture
def memory_snapshots() -> Generator[Any, None, None]:
    from memwatch.snapshots.session import SnapshotSession

    session = SnapshotSession()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def assert_freed(request: pytest.FixtureRequest) -> Generator[FreedWatch, None, None]:
    """``assert_freed(obj, label=None)``: fail the test when ``obj`` outlives the test body."""
    watch = FreedWatch()
    keys.state_of(request.node).watcher = watch
    yield watch
    if not watch.checked:  # the plugin was not active: judge at teardown instead
        outcome = watch.outcome()
        if not outcome.passed:
            pytest.fail(outcome.message, pytrace=False)


@pytest.fixture
def gc_monitor() -> Generator[Any, None, None]:
    """A running memwatch GCMonitor for this test (GC pauses per generation)."""
    _require("memwatch.gcwatch", "gc_monitor")
    from memwatch.plugin.optional import running_gc_monitor

    with running_gc_monitor() as monitor:
        yield monitor


@pytest.fixture
def memory_guard() -> Generator[Any, None, None]:
    """A MemoryGuard for this test, stopped at its end."""
    _require("memwatch.guard", "memory_guard")
    from memwatch.plugin.optional import running_guard

    with running_guard() as guard:
        yield guard


@pytest.fixture
def memory_pressure() -> Generator[Any, None, None]:
    """The memwatch memory-pressure simulator for this test, released at its end."""
    _require("memwatch.stress", "memory_pressure")
    from memwatch.plugin.optional import pressure_simulator

    with pressure_simulator() as simulator:
        yield simulator
