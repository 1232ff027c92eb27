"""MemoryGuard driven by a fake source and clock: alerts, ladder, shutdown, metrics, faces."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from memwatch.errors import ConfigError, UnavailableError
from memwatch.guard import MemoryAlertSystem, MemoryGuard, MemoryMonitor
from memwatch.guard.fakes import FakeClock, FakeSource
from memwatch.guard.preserve import verify
from memwatch.model.base import dump_document, load_document
from memwatch.model.guard import GuardReport

MIB = 1 << 20


def make(**kw: Any) -> tuple[MemoryGuard, FakeSource, FakeClock]:
    clock = FakeClock()
    source = FakeSource(budget=1000 * MIB, usage=100 * MIB, clock=clock)
    guard = MemoryGuard(source=source, clock=clock, reserve=0, **kw)
    return guard, source, clock


def test_handlers_see_every_level_change_with_details() -> None:
    guard, source, clock = make()
    seen: list[tuple[str, dict[str, Any]]] = []
    guard.add_handler(lambda level, details: seen.append((level, details)))
    guard.check()
    assert seen == []
    source.set_fraction(0.72)
    guard.check()
    source.set_fraction(0.97)
    guard.check()
    source.set_fraction(0.10)
    guard.check()  # inside the cooldown: still emergency
    clock.advance(5.0)
    guard.check()
    assert [level for level, _ in seen] == ["warning", "emergency", "normal"]
    details = seen[1][1]
    assert details["previous"] == "warning"
    assert details["usage"] == round(970 * MIB)
    assert details["budget_source"] == "fake"
    assert details["percent"] == pytest.approx(97.0, abs=0.01)
    assert "emergency" in details["reason"]


def test_one_argument_handlers_get_the_details() -> None:
    guard, source, _clock = make()
    seen: list[dict[str, Any]] = []
    guard.add_handler(seen.append)
    source.set_fraction(0.9)
    guard.check()
    assert seen[0]["level"] == "critical"


def test_handler_errors_are_logged_and_counted_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    guard, source, _clock = make()
    after: list[str] = []

    def broken(level: str, details: dict[str, Any]) -> None:
        raise ValueError("handler bug")

    guard.add_handler(broken)
    guard.add_handler(lambda level, d: after.append(level))
    source.set_fraction(0.9)
    with caplog.at_level(logging.ERROR, logger="memwatch.guard"):
        guard.check()
    assert after == ["critical"]
    assert guard.metrics()["counters"]["handler_errors"] == 1
    assert "handler" in caplog.text


def test_source_errors_are_counted_and_the_guard_goes_on() -> None:
    guard, source, _clock = make()
    source.fail_next = OSError("cgroup vanished")
    assert guard.check() is None
    assert guard.check() is not None
    counters = guard.metrics()["counters"]
    assert counters["check_errors"] == 1
    assert counters["checks"] == 2


def test_the_thread_survives_errors_and_stops() -> None:
    clock = FakeClock()
    source = FakeSource(budget=1000, usage=900, clock=clock)
    guard = MemoryGuard(source=source, clock=clock, check_interval=0.01, reserve=0)
    calls: list[str] = []

    def flaky(level: str, details: dict[str, Any]) -> None:
        calls.append(level)
        raise RuntimeError("always")

    guard.add_handler(flaky)
    with guard:
        deadline = time.monotonic() + 5
        while not calls and time.monotonic() < deadline:
            time.sleep(0.01)
        source.fail_next = RuntimeError("source hiccup")
        n = source.reads
        while source.reads < n + 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert guard.running
    assert not guard.running
    assert calls == ["critical"]
    assert guard.metrics()["counters"]["check_errors"] == 1


def test_the_ladder_runs_while_above_warning_and_intake_resumes() -> None:
    guard, source, clock = make(cooldown=2.0)
    intake = threading.Event()
    intake.set()
    freed: list[str] = []

    def clear_caches() -> None:
        freed.append("caches")
        source.usage -= 50 * MIB

    guard.add_strategy("clear caches", clear_caches, level="warning")
    guard.add_strategy("shed load", intake, level="critical")
    source.set_fraction(0.95)
    guard.check()  # emergency: caches (0.90, critical), then shed load
    assert freed == ["caches"]
    assert not intake.is_set()
    assert [a.name for a in guard.actions] == ["clear caches", "shed load"]
    source.set_fraction(0.5)
    clock.advance(1.0)
    guard.check()
    assert not intake.is_set()  # held by the cooldown
    clock.advance(1.0)
    guard.check()
    assert intake.is_set()
    assert guard.level == "normal"
    assert guard.metrics()["counters"]["strategy_runs.shed load"] == 1


def test_emergency_shutdown_flushes_runs_hooks_and_exits(tmp_path: Path) -> None:
    exits: list[int] = []
    guard, source, _clock = make(exit=exits.append)
    buffer = bytearray(b"sample-1\n")
    order: list[str] = []
    guard.preserve(buffer, tmp_path / "buf.bin")
    guard.preserve(lambda: {"n": 2}, tmp_path / "state.json")
    guard.add_shutdown_hook(lambda: order.append("hook"))
    guard.add_strategy("gc")
    guard.add_strategy("shutdown")
    buffer += b"sample-2\n"
    source.set_fraction(0.99)
    guard.check()
    assert exits == [75]
    assert order == ["hook"]
    assert (tmp_path / "buf.bin").read_bytes() == b"sample-1\nsample-2\n"
    assert json.loads((tmp_path / "state.json").read_text()) == {"n": 2}
    assert verify(tmp_path / "buf.bin")
    assert verify(tmp_path / "state.json")
    assert [a.name for a in guard.actions] == ["gc", "shutdown"]
    assert not list(tmp_path.glob(".*tmp"))  # no temp file left behind at exit
    guard.check()
    assert exits == [75]  # only once


def test_emergency_without_shutdown_checkpoints_once(tmp_path: Path) -> None:
    guard, source, _clock = make()
    guard.preserve(b"state", tmp_path / "s.bin")
    source.set_fraction(0.99)
    guard.check()
    guard.check()
    assert (tmp_path / "s.bin").read_bytes() == b"state"
    assert guard.metrics()["counters"]["preserve_flushes"] == 1


def test_memory_events_deltas_are_counted(caplog: pytest.LogCaptureFixture) -> None:
    guard, source, _clock = make()
    source.events = {"high": 3, "oom_kill": 0}
    guard.check()
    source.events = {"high": 5, "oom_kill": 1}
    with caplog.at_level(logging.WARNING, logger="memwatch.guard"):
        sample = guard.check()
    assert sample is not None
    assert sample.events == {"high": 2, "oom_kill": 1}
    counters = guard.metrics()["counters"]
    assert counters["memory_events.high"] == 5
    assert counters["memory_events.oom_kill"] == 1
    assert "oom_kill" in caplog.text


def test_metrics_and_prometheus_export() -> None:
    prometheus_client = pytest.importorskip(
        "prometheus_client", reason="the prometheus extra is not installed"
    )
    guard, source, _clock = make()
    source.set_fraction(0.75)
    source.psi_some = 1.5
    guard.add_strategy("gc")
    guard.check()
    metrics = guard.metrics()
    assert metrics["gauges"]["usage_fraction"] == pytest.approx(0.75)
    assert metrics["gauges"]["level"] == 1.0
    assert metrics["counters"]["alerts.warning"] == 1
    registry = prometheus_client.CollectorRegistry()
    guard.export_prometheus(registry)
    text = prometheus_client.generate_latest(registry).decode()
    assert 'memwatch_guard_alerts_total{level="warning"} 1.0' in text
    assert 'memwatch_guard_strategy_runs_total{strategy="gc"} 1.0' in text
    assert "memwatch_guard_usage_fraction 0.75" in text
    assert registry.get_sample_value("memwatch_guard_checks_total") == 1.0


def test_prometheus_missing_gives_an_actionable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    guard, _source, _clock = make()
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    with pytest.raises(UnavailableError, match=r"memwatch\[prometheus\]"):
        guard.export_prometheus()


def test_report_round_trips_through_json(tmp_path: Path) -> None:
    guard, source, clock = make()
    guard.add_strategy("gc")
    guard.preserve(b"state", tmp_path / "state.bin")
    source.events = {"high": 2}
    source.set_fraction(0.97)
    guard.check()  # emergency: gc runs, the buffers are checkpointed
    clock.advance(10)
    source.set_fraction(0.1)
    guard.check()
    report = guard.report()
    assert [a.level for a in report.alerts] == ["emergency", "normal"]
    assert report.alerts[0].sample.events == {"high": 2}
    assert [a.name for a in report.actions] == ["gc"]
    assert [Path(f.path).name for f in report.preserved] == ["state.bin"]
    assert report.budget_source == "fake"
    doc = json.loads(json.dumps(dump_document(report)))
    assert load_document(doc, expected=GuardReport) == report


def test_bad_options_are_refused() -> None:
    with pytest.raises(ConfigError):
        MemoryGuard(warning=0.9, critical=0.8, source=FakeSource())
    with pytest.raises(ConfigError, match="check_interval"):
        MemoryGuard(check_interval=0, source=FakeSource())


def test_async_with_runs_async_handlers_on_the_loop() -> None:
    source = FakeSource(budget=1000, usage=100)
    guard = MemoryGuard(source=source, check_interval=0.01, reserve=0)
    seen: list[tuple[str, bool]] = []
    done = asyncio.Event()

    async def handler(level: str, details: dict[str, Any]) -> None:
        seen.append((level, threading.current_thread() is threading.main_thread()))
        done.set()

    async def main() -> None:
        guard.add_handler(handler)
        async with guard:
            source.usage = 900
            await asyncio.wait_for(done.wait(), 5)
        assert not guard.running

    asyncio.run(main())
    assert seen == [("critical", True)]


def test_async_handler_without_a_loop_runs_in_the_guard_thread() -> None:
    guard, source, _clock = make()
    seen: list[str] = []

    async def handler(level: str, details: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        seen.append(level)

    guard.add_handler(handler)
    source.set_fraction(0.9)
    guard.check()
    assert seen == ["critical"]


def test_memory_alert_system_seed_api() -> None:
    source = FakeSource(budget=1000, usage=100)
    alerts = MemoryAlertSystem(
        warning_threshold=0.7, critical_threshold=0.85, check_interval=0.01, source=source
    )
    seen: list[str] = []

    async def handler(level: str, details: dict[str, Any]) -> None:
        seen.append(level)
        if level == "critical":
            alerts.stop_monitoring()

    alerts.add_handler(handler)

    async def main() -> None:
        task = asyncio.create_task(alerts.start_monitoring())
        await asyncio.sleep(0.05)
        source.usage = 750
        await asyncio.sleep(0.05)
        source.usage = 900
        await asyncio.wait_for(task, 5)

    asyncio.run(main())
    assert seen == ["warning", "critical"]
    assert alerts.level == "critical"
    assert not alerts.monitoring


def test_memory_monitor_seed_api() -> None:
    source = FakeSource(budget=1000, usage=250)
    monitor = MemoryMonitor(source)
    assert monitor.current() == 250
    assert monitor.available() == 750
    assert monitor.percent() == 25.0
    source.usage = 600
    source.usage = 300
    monitor.current()
    assert monitor.peak() == 300
    source.usage = 1200
    assert monitor.available() == 0
    assert monitor.peak() == 1200
    snap = monitor.snapshot()
    assert snap["budget_source"] == "fake"
    assert snap["percent"] == 120.0


def test_importing_the_guard_does_not_import_numpy() -> None:
    code = (
        "import sys, memwatch; memwatch.MemoryGuard; memwatch.oom_protected; "
        "import memwatch.guard.core; print('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_actions_do_not_hold_the_level_once_the_need_is_gone() -> None:
    guard, source, clock = make(cooldown=1.0)
    intake = threading.Event()
    intake.set()
    runs: list[float] = []
    guard.add_strategy("cheap", lambda: runs.append(clock()), level="warning")
    guard.add_strategy("pause_intake", intake)
    source.set_fraction(0.9)
    guard.check()
    source.set_fraction(0.1)  # the application freed its memory
    for _ in range(10):
        clock.advance(0.25)
        guard.check()
    assert guard.level == "normal"
    assert intake.is_set()
    assert len(runs) == 1  # nothing ran again: the reading no longer needed it


def test_a_handler_calling_sys_exit_does_not_end_the_guard_thread() -> None:
    source = FakeSource(budget=1000, usage=900)
    guard = MemoryGuard(source=source, check_interval=0.01, reserve=0)
    guard.add_handler(lambda level, details: sys.exit(3))
    with guard:
        deadline = time.monotonic() + 5
        while guard.metrics()["counters"].get("check_errors", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        reads = source.reads
        while source.reads < reads + 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert guard.running
    assert guard.metrics()["counters"]["check_errors"] >= 1


def test_the_reserve_is_released_at_emergency_and_taken_again_at_normal(tmp_path: Path) -> None:
    clock = FakeClock()
    source = FakeSource(budget=1000 * MIB, usage=100 * MIB, clock=clock)
    guard = MemoryGuard(source=source, clock=clock, reserve="1 MiB", cooldown=1.0)
    guard.preserve(b"x", tmp_path / "x.bin")
    assert guard._preserver.reserved == MIB
    source.set_fraction(0.99)
    guard.check()  # emergency checkpoint: the reserve pays for the flush
    assert guard._preserver.reserved == 0
    source.set_fraction(0.1)
    clock.advance(1.0)
    guard.check()
    assert guard.level == "normal"
    assert guard._preserver.reserved == MIB
    guard.close()


def test_guard_package_exports() -> None:
    import importlib
    import pkgutil

    import memwatch
    import memwatch.guard as guard_pkg

    assert sorted(guard_pkg.__all__) == list(guard_pkg.__all__)
    for name in ("MemoryGuard", "MemoryAlertSystem", "MemoryMonitor", "oom_protected"):
        assert name in guard_pkg.__all__
        assert getattr(memwatch, name) is getattr(guard_pkg, name)
    for info in pkgutil.iter_modules(guard_pkg.__path__):
        module = importlib.import_module(f"memwatch.guard.{info.name}")
        for name in module.__all__:
            assert hasattr(module, name), f"{info.name}.{name}"


def test_a_psi_trigger_wakes_the_guard_before_the_interval() -> None:
    from memwatch.guard.fakes import FakeTrigger

    source = FakeSource(budget=1000, usage=100)
    source.trigger = FakeTrigger()
    guard = MemoryGuard(source=source, check_interval=30.0, reserve=0)  # polling alone: 30 s
    woke = threading.Event()
    guard.add_handler(lambda level, details: woke.set())
    with guard:
        deadline = time.monotonic() + 5
        while source.reads < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        source.usage = 900
        started = time.monotonic()
        source.trigger.fire()
        assert woke.wait(5.0)
        assert time.monotonic() - started < 5.0
        assert source.trigger.fired_count == 1
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 5.0  # stop() ends the 30 s trigger wait at once
    assert not guard.running
    assert guard.metrics()["counters"]["psi_triggers"] == 1
    source.trigger.close()
