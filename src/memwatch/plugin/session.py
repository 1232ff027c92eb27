"""The stateful plugin object, registered only when an option or a memwatch marker needs it.

Per test: parse the checking markers at collection (level and GPU skips too), measure
the body in ``pytest_runtest_call`` (fixture setup and teardown excluded), run it
through the leak engine for ``no_leaks`` (a separate plugin object, registered only
when a test needs it), judge the checks, and build the record when the teardown report
is logged. xdist workers and ``--memwatch-isolate`` children send their records on
the reports; only the controller writes the reports and the store.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from memwatch.errors import MemwatchError
from memwatch.plugin import keys
from memwatch.plugin.markers import CHECK_MARKERS, level_skip_reason, marker_names
from memwatch.plugin.options import PluginSettings
from memwatch.plugin.recorder import (
    REPORT_ATTR,
    BodyMeter,
    SessionRecords,
    record_from_report,
    sendable_record,
)

if TYPE_CHECKING:
    from memwatch.config.schema import RegressionConfig
    from memwatch.model.pytest import CheckOutcome, PytestSession
    from memwatch.plugin.optional import GCCheck
    from memwatch.plugin.recorder import BodyFigures
    from memwatch.plugin.regression import BaselineCheck, SessionGate

__all__ = ["IsolatePlugin", "LeakLoopPlugin", "MarkerErrorPlugin", "MemwatchPlugin"]

_LEAK_PLUGIN = "memwatch-leak-loop"
_MARKER_PLUGIN = "memwatch-marker-errors"
_ISOLATE_PLUGIN = "memwatch-isolate"


class LeakLoopPlugin:
    """The test function swapped for its leak loop (``no_leaks`` / ``--memwatch-leaks``) for the
    whole call phase: pytest-asyncio then synchronises the loop itself (one event-loop run for
    all the calls), anyio's runner and pytest call it as they would the test. Registered only
    when a collected test needs it, so other runs pay no wrapper per test."""

    def __init__(self, config: pytest.Config, settings: PluginSettings) -> None:
        self.config = config
        self.settings = settings

    # trylast: the innermost wrapper, so the verdict is stored before the measuring wrapper judges
    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        if not isinstance(item, pytest.Function):
            return (yield)
        pyfuncitem = item
        state = keys.find_state(pyfuncitem)
        from memwatch.plugin.leakloop import leak_spec_for, looped_body

        spec = leak_spec_for(pyfuncitem, state, self.settings)
        if spec is None:
            return (yield)
        original = pyfuncitem.obj
        looped, outcome = looped_body(original, spec, self.config, pyfuncitem.nodeid)
        pyfuncitem.obj = looped
        try:
            return (yield)
        finally:
            pyfuncitem.obj = original
            if outcome.result is not None:
                keys.state_of(pyfuncitem).leak = outcome.result


class IsolatePlugin:
    """``--memwatch-isolate``: a test with a checking marker runs in a fresh child process."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
        state = keys.find_state(item)
        if not keys.has_checks(state):
            return None
        from memwatch.plugin.isolate import run_isolated

        run_isolated(item)
        return True


class MarkerErrorPlugin:
    """Turns a bad marker argument into an error of that test (registered only when one exists)."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        state = keys.find_state(item)
        if state is not None and state.marker_error is not None:
            pytest.fail(f"memwatch usage error: {state.marker_error}", pytrace=False)


class MemwatchPlugin:
    """Hooks of an active memwatch run; see the module docstring."""

    def __init__(self, config: pytest.Config, settings: PluginSettings) -> None:
        self.config = config
        self.settings = settings
        self.records = SessionRecords()
        self.remote = hasattr(config, "workerinput") or bool(settings.child_out)
        self.worker = SessionRecords.worker_id(config)
        self.started_at = time.time()
        self._gpu_reason: str | None = None
        #: node id -> [item, BodyFigures, call outcome], from the call to the teardown report
        self._pending: dict[str, list[Any]] = {}
        self._measure_all = settings.reporting or settings.leaks
        self._child_out = settings.child_out
        # the session gate compares every test's growth: what a body freed is not its growth
        self._meter = BodyMeter(python=settings.tracemalloc, trim=bool(settings.fail_on))
        self._baselines: BaselineCheck | None = None
        self.written: list[str] = []
        self.errors: list[str] = []
        #: the session-wide gate's verdict (``--memwatch-fail-on``), once the run is recorded
        self.gates: list[SessionGate] = []

    # -- collection ---------------------------------------------------------------------------
    def prepare_items(self, items: list[pytest.Item]) -> None:
        """Parse checking markers, skip tests outside the level or without a GPU."""
        level = self.settings.level
        level_of = dict(self.settings.level_of)
        leak_tests = self.settings.leaks
        needs_config = bad_markers = False
        inherited: dict[object, tuple[str, ...]] = {}
        for item in items:
            names = marker_names(item, inherited)
            if level:
                reason = level_skip_reason(names, level, level_of)
                if reason:
                    item.add_marker(pytest.mark.skip(reason=reason))
            if "gpu" in names:
                reason = self.gpu_reason()
                if reason:
                    item.add_marker(pytest.mark.skip(reason=f"no GPU visible: {reason}"))
            recorded = tuple(sorted({n for n in names if n in keys.RECORDED_MARKERS}))
            if recorded:
                state = keys.state_of(item)
                state.markers = recorded
                if not CHECK_MARKERS.isdisjoint(names) or "memory_gc" in names:
                    from memwatch.plugin.specs import parse_checks_safely

                    state.checks, state.marker_error = parse_checks_safely(item)
                    bad_markers = bad_markers or state.marker_error is not None
            leak_tests = leak_tests or "no_leaks" in names
            needs_config = needs_config or "memory_gc" in names or "memory_regression" in names
        if leak_tests:  # import the engine now, not inside the first measured body
            import memwatch.leaks.runner  # noqa: F401

            if not self.config.pluginmanager.has_plugin(_LEAK_PLUGIN):
                self.config.pluginmanager.register(LeakLoopPlugin(self.config, self.settings), _LEAK_PLUGIN)
        if leak_tests or needs_config:
            from memwatch.plugin.leakloop import run_config

            run_config(self.config)  # a bad [tool.memwatch] is a usage error now, not in a test
        # hooks that most runs do not need are separate objects: no per-test call otherwise
        manager = self.config.pluginmanager
        if bad_markers and not manager.has_plugin(_MARKER_PLUGIN):
            manager.register(MarkerErrorPlugin(), _MARKER_PLUGIN)
        if self.settings.isolate and not self.settings.child_out and not manager.has_plugin(_ISOLATE_PLUGIN):
            manager.register(IsolatePlugin(), _ISOLATE_PLUGIN)

    def gpu_reason(self) -> str:
        if self._gpu_reason is None:
            from memwatch.plugin.gpu import gpu_unavailable_reason

            self._gpu_reason = gpu_unavailable_reason()
        return self._gpu_reason

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.prepare_items(items)

    # -- running ------------------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        state = keys.find_state(item)
        if state is None or not (
            state.checks is not None or state.watcher is not None or "memory_gc" in state.markers
        ):
            if not self._measure_all:
                return (yield)  # nothing to check, nothing to record
            if not self.settings.leaks:
                # the path of most tests under --memwatch: one shared meter, no state of its own
                meter = self._meter
                meter.start()
                try:
                    return (yield)
                finally:
                    self._pending[item.nodeid] = [item, meter.stop(), "passed"]
            state = keys.state_of(item)  # --memwatch-leaks: the leak loop leaves its verdict there
        return (yield from self._checked_call(item, state))

    def _checked_call(self, item: pytest.Item, state: keys.ItemState) -> Generator[None, object, object]:
        """The body of a test with checks: measured, then judged (fails the test in words)."""
        from memwatch.plugin.specs import CheckSpecs

        specs = state.checks if state.checks is not None else CheckSpecs()
        watcher = state.watcher
        limited = specs.limit_memory is not None or specs.limit_native_memory is not None
        # a budget or a baseline needs the allocator's kept memory returned first (see BodyMeter)
        meter = BodyMeter(
            native=specs.limit_native_memory is not None,
            python=self.settings.tracemalloc,
            sites=limited,
            settle=limited or specs.regression is not None,
        )
        gc_check = self._gc_check(specs.gc) if "memory_gc" in state.markers else None
        meter.start()
        try:
            result = yield
        except BaseException:
            if watcher is not None:  # the test failed already; its traceback keeps objects alive
                watcher.checked = True
            raise
        finally:
            figures = meter.stop()
            self._pending[item.nodeid] = [item, figures, "passed"]
            gc_outcome = gc_check.finish() if gc_check is not None else None
        checks: list[Any] = []
        if limited:
            from memwatch.plugin.checks import LimitResult
        if specs.limit_memory is not None:
            checks.append(
                LimitResult(
                    "limit_memory",
                    specs.limit_memory,
                    figures.peak,
                    figures.peak_source,
                    figures.sites,
                    self.settings.tracemalloc,
                )
            )
        if specs.limit_native_memory is not None:
            native_ok = figures.native_peak is not None
            checks.append(
                LimitResult(
                    "limit_native_memory",
                    specs.limit_native_memory,
                    figures.native_peak,
                    "mallinfo2, sampled every 1 ms" if native_ok else "",
                    figures.sites,
                    self.settings.tracemalloc,
                    "" if native_ok else "glibc heap unreadable here: not checked",
                )
            )
        if state.leak is not None:
            checks.append(state.leak)
        outcomes = [check.outcome() for check in checks]
        if specs.regression is not None:
            outcomes.append(self._regression_outcome(item.nodeid, figures, specs.regression))
        if gc_outcome is not None:
            outcomes.append(gc_outcome)
        if watcher is not None:
            outcomes.append(watcher.outcome())
        state.outcomes = tuple(outcomes)
        failures = [o.message for o in outcomes if not o.passed]
        if failures:
            pytest.fail("\n\n".join(failures), pytrace=False)
        return result

    def _regression_outcome(self, nodeid: str, figures: BodyFigures, gates: tuple[str, ...]) -> CheckOutcome:
        from memwatch.plugin.regression import MARKER, BaselineCheck

        if not self.settings.db_url:
            from memwatch.model.pytest import CheckOutcome

            return CheckOutcome(MARKER, True, detail="not compared: no history database (--memwatch-db URL)")
        if self._baselines is None:
            self._baselines = BaselineCheck(self.settings.db_url, self._regression_config())
        return self._baselines.outcome(nodeid, figures, gates, accept=self.settings.update_baselines)

    def _regression_config(self) -> RegressionConfig:
        """``[tool.memwatch] regression`` of the run (the defaults without a config file)."""
        from memwatch.config.schema import RegressionConfig
        from memwatch.plugin.leakloop import run_config

        loaded = run_config(self.config)
        return loaded.regression if loaded is not None else RegressionConfig()

    def _gc_check(self, own: tuple[float | None, float | None] | None) -> GCCheck | None:
        if importlib.util.find_spec("memwatch.gcwatch") is None:
            return None
        from memwatch.config.options import gc_options
        from memwatch.plugin.leakloop import run_config
        from memwatch.plugin.optional import GCCheck

        limits = gc_options(config=run_config(self.config)).thresholds
        p95, longest = limits["max_pause_p95_ms"], limits["max_pause_ms"]
        if own is not None:  # the marker's own limits win over the config's
            p95 = own[0] if own[0] is not None else p95
            longest = own[1] if own[1] is not None else longest
        return GCCheck(p95 if p95 is not None else float("inf"), longest)

    @pytest.hookimpl(tryfirst=True)  # before xdist's worker sends the report to the controller
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        when = report.when
        if when == "call":
            pending = self._pending.get(report.nodeid)
            if pending is not None:
                pending[2] = report.outcome
        elif when == "teardown" and not (self._record_teardown(report) or self.remote):
            record = record_from_report(report)  # from an isolated child
            if record is not None:
                self.records.add(record)
        if self._child_out:  # an isolated child: every report goes back to the parent
            from memwatch.plugin.isolate import write_child_report

            write_child_report(self.config, report, self._child_out)

    def _record_teardown(self, report: pytest.TestReport) -> bool:
        """Build the record of a test measured here; attach it to the report when remote."""
        pending = self._pending.pop(report.nodeid, None)
        if pending is None:
            return False
        item, figures, outcome = pending
        state = keys.find_state(item)  # as teardown left it (memory_profiler's result comes then)
        if report.failed and outcome == "passed":
            outcome = "error"
        if self.remote:
            record = figures.record(report.nodeid, outcome, state, self.worker)
            data = sendable_record(record.to_dict(), report.nodeid, self.worker)
            if data is not None:
                setattr(report, REPORT_ATTR, data)
        else:
            self.records.add_measured(report.nodeid, outcome, figures, state, self.worker)
        return True

    # -- the end ------------------------------------------------------------------------------
    def session_record(self, exitstatus: int) -> PytestSession:
        import platform
        import socket
        import sys

        from memwatch.model.pytest import PytestSession

        records = self.records.records()
        workers = len({r.worker for r in records if r.worker})
        return PytestSession(
            started_at=self.started_at,
            duration=time.time() - self.started_at,
            tests=records,
            exit_status=int(exitstatus),
            level=self.settings.level,
            workers=workers,
            python=sys.version.split()[0],
            platform=platform.platform(),
            host=socket.gethostname(),
            rootdir=str(self.config.rootpath),
            args=tuple(self.config.invocation_params.args),
        )

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.remote or not (self.settings.report_dir or self.settings.db_url):
            return
        from memwatch.plugin.report import write_outputs

        record = self.session_record(exitstatus)
        regression = None
        if self.settings.db_url and (
            self.settings.fail_on or any("memory_regression" in r.markers for r in record.tests)
        ):
            regression = self._regression_config()
        try:
            self.written = write_outputs(
                record, self.settings, self.config.invocation_params.dir, regression, self.gates
            )
        except MemwatchError as exc:
            self.errors.append(str(exc))
        if any(not g.passed for g in self.gates) and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # --memwatch-fail-on: a test failed a gate

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.remote:
            return
        from memwatch.plugin.report import terminal_summary

        terminal_summary(terminalreporter, self.records, self.settings, self.written, self.errors, self.gates)

    def pytest_report_header(self, config: pytest.Config) -> str:
        mode = "records every test" if self.settings.reporting else "checks marked tests"
        level = f", level {self.settings.level}" if self.settings.level else ""
        peak = "VmHWM reset per test" if BodyMeter.hwm_works() else "1 ms sampler"
        return f"memwatch: {mode}{level} (peak: {peak})"
