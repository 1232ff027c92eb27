"""Scenario verdicts from synthetic child reports: the child is replaced by a fake that returns
chosen events (a fake clock ``t`` and fake memory readings), so every verdict has a known answer."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from memwatch.errors import ConfigError, UsageError
from memwatch.model.stress import ChildOutcome
from memwatch.stress import scenarios, seed
from memwatch.stress.child import ChildRun
from memwatch.stress.scenarios import StressOptions, run_scenario

MB = 1e6


def fake_run(events: list[dict[str, Any]], *, completed: bool = True, error: str = "") -> ChildRun:
    outcome = ChildOutcome(
        "exited" if completed else "signal",
        0 if completed else None,
        None if completed else 9,
        1.0,
        100 * MB,
        2**28,
        "rlimit",
        error=error,
        events=len(events),
        completed=completed,
    )
    return ChildRun(tuple(events), outcome)


def sample(
    t: float,
    rss: float,
    heap: float = math.nan,
    native: float = math.nan,
    label: str = "sample",
    native_free: float = 0.0,
) -> dict[str, Any]:
    return {
        "e": "sample",
        "t": t,
        "rss": rss,
        "heap": heap,
        "native": native,
        "native_free": native_free,
        "label": label,
    }


def install(monkeypatch: pytest.MonkeyPatch, factory: Callable[..., ChildRun]) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def fake(task: str, **kw: Any) -> ChildRun:
        calls.append({"task": task, **kw})
        return factory(task, **kw)

    monkeypatch.setattr(scenarios, "run_child", fake)
    monkeypatch.setattr(seed, "run_child", fake)
    return calls


def test_ramp_bisects_over_children(monkeypatch: pytest.MonkeyPatch) -> None:
    def child(task: str, **kw: Any) -> ChildRun:
        (load,) = kw["args"]
        if load < 300:
            return fake_run([{"e": "ready"}, {"e": "result", "data": {}}])
        return fake_run(
            [{"e": "ready"}, {"e": "error", "kind": "memory", "type": "MemoryError", "message": ""}],
            completed=False,
            error="MemoryError",
        )

    calls = install(monkeypatch, child)
    result = run_scenario("ramp", "m:f", StressOptions(start=10, max_load=10_000, relative=0.0))
    assert result.passed
    assert result.metrics["breaking_point"] == 300
    assert result.metrics["last_ok"] == 299
    assert [c["args"][0] for c in calls][:6] == [10, 20, 40, 80, 160, 320]
    assert len(result.trials) == len(calls) == len(result.children)
    assert "MemoryError" in result.checks[0].detail


def test_ramp_without_failure_is_inconclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch, lambda task, **kw: fake_run([{"e": "result", "data": {}}]))
    result = run_scenario("ramp", "m:f", StressOptions(start=1, max_load=8))
    assert not result.passed  # no breaking point: no verdict, not a PASS
    assert result.inconclusive
    assert result.checks[0].status == "inconclusive"
    assert math.isnan(result.metrics["breaking_point"])


def spike_events(after_heap: float) -> list[dict[str, Any]]:
    return [
        sample(0, 30 * MB, 1 * MB, 2 * MB, "baseline"),
        sample(1, 130 * MB, 101 * MB, 102 * MB, "spike 1 peak"),
        sample(2, 80 * MB, after_heap, 2.2 * MB, "spike 1 after"),
        {"e": "result", "data": {}},
    ]


@pytest.mark.parametrize(("after_heap", "status"), [(1 * MB, "pass"), (6 * MB, "fail"), (4 * MB, "pass")])
def test_spike_recovery_judged_per_signal(
    monkeypatch: pytest.MonkeyPatch, after_heap: float, status: str
) -> None:
    install(monkeypatch, lambda task, **kw: fake_run(spike_events(after_heap)))
    result = run_scenario("spike", "m:f", StressOptions())
    checks = {c.name: c for c in result.checks}
    assert checks["python heap recovery"].status == status
    assert checks["python heap recovery"].value == pytest.approx((101 - after_heap / MB) / 100)
    assert checks["native heap recovery"].status == "pass"  # 99.8 % back
    assert checks["rss recovery"].status == "not-judged"  # 50 % back, reported only
    assert result.metrics["rss_recovery"] == pytest.approx(0.5)
    assert result.passed is (status == "pass")


def test_spike_too_small_is_not_judged(monkeypatch: pytest.MonkeyPatch) -> None:
    events = [
        sample(0, 30 * MB, 1 * MB, 2 * MB, "baseline"),
        sample(1, 30 * MB, 1.1 * MB, 2.1 * MB, "peak"),
        sample(2, 30 * MB, 1 * MB, 2 * MB, "after"),
        {"e": "result", "data": {}},
    ]
    install(monkeypatch, lambda task, **kw: fake_run(events))
    result = run_scenario("spike", "m:f", StressOptions())
    assert {c.status for c in result.checks} == {"not-judged"}
    assert result.passed


def test_fragmentation_is_rss_growth_minus_heap_growth(monkeypatch: pytest.MonkeyPatch) -> None:
    events = [sample(0, 30 * MB, 1 * MB, label="baseline")]
    events += [
        sample(i, (30 + 10 * i) * MB, 1 * MB, label=f"cycle {i}", native_free=i * MB) for i in range(1, 4)
    ]
    events += [sample(5, 31 * MB, 1 * MB, label="after malloc_trim"), {"e": "result", "data": {}}]
    install(monkeypatch, lambda task, **kw: fake_run(events))
    result = run_scenario("fragmentation", "", StressOptions(size=50_000_000))
    assert result.metrics["fragmentation"] == pytest.approx(30 * MB)
    assert result.metrics["rss_growth_after_trim"] == pytest.approx(1 * MB)
    checks = {c.name: c.status for c in result.checks}
    # the workload kept 1 MB (after malloc_trim): it passes; the 29 MB the allocator kept is reported
    assert checks == {
        "heap back to baseline": "pass",
        "rss back to baseline": "pass",
        "kept by the allocator": "not-judged",
    }
    kept = next(c for c in result.checks if c.name == "kept by the allocator")
    assert kept.value == pytest.approx(29 * MB)


def test_fragmentation_fails_when_the_memory_stays_after_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    events = [sample(0, 30 * MB, 1 * MB, label="baseline")]
    events += [sample(i, (30 + 10 * i) * MB, 1 * MB, label=f"cycle {i}") for i in range(1, 4)]
    events += [sample(5, 58 * MB, 1 * MB, label="after malloc_trim"), {"e": "result", "data": {}}]
    install(monkeypatch, lambda task, **kw: fake_run(events))
    result = run_scenario("fragmentation", "", StressOptions(size=50_000_000))
    rss = next(c for c in result.checks if c.name == "rss back to baseline")
    assert rss.status == "fail"
    assert rss.value == pytest.approx(28 * MB)
    assert not result.passed


def soak_events(slope: float, noise: float = 0.0, n: int = 200) -> list[dict[str, Any]]:
    jitter = np.random.default_rng(3).normal(0.0, 1.0, n) * noise
    rows = [sample(i * 0.5, 100 * MB + slope * i * 0.5 + jitter[i]) for i in range(n)]
    return [*rows, {"e": "result", "data": {"calls": 1000}}]


@pytest.mark.parametrize(
    ("slope", "noise", "rate", "hourly", "band"),
    [
        (0.0, 0.0, "pass", "pass", "pass"),
        (2 * MB, 0.0, "fail", "fail", "fail"),  # 2 MB/s: a leak on every count
        (10_000.0, 0.0, "pass", "pass", "pass"),  # 10 kB/s = 36 MB/h, under 100 MB/h
        (50_000.0, 0.0, "pass", "fail", "pass"),  # 50 kB/s = 180 MB/h: under 1 MB/s, over 100 MB/h
    ],
)
def test_soak_verdicts_from_a_fake_clock(
    monkeypatch: pytest.MonkeyPatch, slope: float, noise: float, rate: str, hourly: str, band: str
) -> None:
    install(monkeypatch, lambda task, **kw: fake_run(soak_events(slope, noise)))
    result = run_scenario("soak", "m:f", StressOptions(duration=100))
    checks = {c.name: c.status for c in result.checks}
    assert checks == {"growth rate": rate, "growth per hour": hourly, "stable within band": band}
    assert result.metrics["slope"] == pytest.approx(slope, abs=1.0)


def test_soak_straddling_target_is_inconclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    # 30 kB/s with 1 MB of noise over 20 s: the interval straddles 100 MB/h (27.8 kB/s)
    install(monkeypatch, lambda task, **kw: fake_run(soak_events(30_000.0, noise=1 * MB, n=40)))
    result = run_scenario("soak", "m:f", StressOptions(duration=20))
    hourly = next(c for c in result.checks if c.name == "growth per hour")
    assert hourly.status == "inconclusive"
    assert result.passed  # inconclusive is not a failure


def test_killed_child_fails_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    events = soak_events(0.0, n=30)[:-1]  # no result: killed midway
    install(monkeypatch, lambda task, **kw: fake_run(events, completed=False, error="killed by SIGKILL"))
    result = run_scenario("soak", "m:f", StressOptions(duration=30))
    assert not result.passed
    assert result.checks[0].name == "child completed"
    assert result.checks[0].detail == "killed by SIGKILL"
    assert len(result.samples) == 30


def test_concurrent_counts_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    data = {
        "calls": 80,
        "completed": 80,
        "errors": {"MemoryError": 3},
        "hung_threads": 0,
        "wall": 1.0,
        "median_call": 0.01,
    }
    install(monkeypatch, lambda task, **kw: fake_run([{"e": "result", "data": data}]))
    result = run_scenario("concurrent", "m:f", StressOptions())
    checks = {c.name: c.status for c in result.checks}
    assert checks == {"calls completed": "pass", "errors": "fail", "hung threads": "pass"}
    assert result.metrics["memory_errors"] == 3


def test_pressure_breaking_point_from_a_killed_child(monkeypatch: pytest.MonkeyPatch) -> None:
    events = [
        {"e": "level", "level": 64, "cycle": 0},
        {"e": "cycle", "level": 64, "cycle": 0, "before": 30.0, "peak": 94.0, "after": 30.0},
        {"e": "level", "level": 128, "cycle": 0},
    ]  # a cgroup cap killed it here
    install(monkeypatch, lambda task, **kw: fake_run(events, completed=False))
    result = seed.run_pressure([64, 128], limit=2**28)
    assert result.breaking_point == 128
    assert result.stability_score == 1.0


def test_bad_target_and_unknown_scenario(monkeypatch: pytest.MonkeyPatch) -> None:
    error = {"e": "error", "kind": "bad-target", "message": "module 'm' has no attribute 'f'"}
    install(monkeypatch, lambda task, **kw: fake_run([error], completed=False))
    with pytest.raises(UsageError, match="no attribute"):
        run_scenario("spike", "m:f")
    with pytest.raises(ConfigError, match="unknown scenario"):
        run_scenario("boom", "m:f")
    with pytest.raises(UsageError, match="needs a target"):
        run_scenario("soak", "")
