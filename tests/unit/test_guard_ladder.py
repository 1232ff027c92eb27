"""The recovery ladder: order, re-check between rungs, cooldowns, built-ins, undo."""

from __future__ import annotations

import sys
import threading
import types
from typing import Any

import pytest

from memwatch.blocks import reclaim
from memwatch.errors import ConfigError
from memwatch.guard.fakes import FakeClock, FakeSource
from memwatch.guard.ladder import RecoveryLadder, ThrottledGC, cuda_empty_cache
from memwatch.guard.levels import Level, LevelPolicy
from memwatch.model.guard import GuardSample

MIB = 1 << 20


class Rig:
    """A ladder over a fake source; strategies 'free' memory by lowering the fake usage."""

    def __init__(self, fraction: float) -> None:
        self.clock = FakeClock()
        self.source = FakeSource(budget=1000 * MIB, clock=self.clock)
        self.source.set_fraction(fraction)
        self.policy = LevelPolicy()
        self.ladder = RecoveryLadder(cooldown=5.0, clock=self.clock)
        self.calls: list[str] = []

    def freeing(self, name: str, fraction: float | None) -> Any:
        def fn() -> None:
            self.calls.append(name)
            if fraction is not None:
                self.source.set_fraction(fraction)

        return fn

    def recheck(self) -> tuple[GuardSample, Level]:
        sample = self.source.read()
        return sample, self.policy.evaluate(sample)[0]

    def run(self, level: Level, **kw: Any) -> Any:
        return self.ladder.run(level, self.source.read(), self.recheck, **kw)


def test_rungs_run_in_level_order_until_the_level_is_normal() -> None:
    rig = Rig(0.90)
    rig.ladder.add("shed", rig.freeing("shed", 0.60), "critical")
    rig.ladder.add("cheap", rig.freeing("cheap", 0.87), "warning")
    rig.ladder.add("never", rig.freeing("never", None), "warning")
    outcomes, sample, level = rig.run(Level.CRITICAL)
    # cheap (warning) first; still critical after it, so "never" runs, then critical's "shed"
    assert rig.calls == ["cheap", "never", "shed"]
    assert level is Level.NORMAL
    assert [o.name for o in outcomes] == ["cheap", "never", "shed"]
    assert outcomes[0].usage_before == 900 * MIB
    assert outcomes[0].usage_after == 870 * MIB
    assert outcomes[0].freed == 30 * MIB
    assert outcomes[2].level == "critical"  # the level it ran at
    assert sample.usage == 600 * MIB


def test_recheck_stops_the_walk_and_skips_rungs_above_the_new_level() -> None:
    rig = Rig(0.90)
    rig.ladder.add("gc-like", rig.freeing("gc-like", 0.75), "warning")
    rig.ladder.add("shed", rig.freeing("shed", 0.10), "critical")
    _outcomes, _sample, level = rig.run(Level.CRITICAL)
    assert rig.calls == ["gc-like"]  # warning after the re-check: the critical rung is skipped
    assert level is Level.WARNING

    rig2 = Rig(0.75)
    rig2.ladder.add("a", rig2.freeing("a", 0.10), "warning")
    rig2.ladder.add("b", rig2.freeing("b", 0.10), "warning")
    rig2.run(Level.WARNING)
    assert rig2.calls == ["a"]


def test_each_rung_has_a_cooldown_unless_forced() -> None:
    rig = Rig(0.75)
    rig.ladder.add("a", rig.freeing("a", None), "warning")
    rig.run(Level.WARNING)
    rig.clock.advance(4.9)
    rig.run(Level.WARNING)
    assert rig.calls == ["a"]
    rig.run(Level.WARNING, force=True)
    rig.clock.advance(5.0)
    rig.run(Level.WARNING)
    assert rig.calls == ["a", "a", "a"]


def test_a_rung_returning_false_did_nothing() -> None:
    rig = Rig(0.75)
    rig.ladder.add("noop", lambda: False, "warning")
    outcomes, _s, _l = rig.run(Level.WARNING)
    assert outcomes == []
    assert rig.source.reads == 1  # no re-read for a rung that did nothing


def test_a_failing_rung_is_recorded_and_the_walk_goes_on() -> None:
    rig = Rig(0.75)

    def broken() -> None:
        raise RuntimeError("boom")

    rig.ladder.add("broken", broken, "warning")
    rig.ladder.add("next", rig.freeing("next", 0.1), "warning")
    outcomes, _s, level = rig.run(Level.WARNING)
    assert outcomes[0].error == "RuntimeError: boom"
    assert rig.calls == ["next"]
    assert level is Level.NORMAL
    assert rig.ladder.strategies[0].errors == 1


def test_strategy_receives_the_level_when_it_takes_an_argument() -> None:
    rig = Rig(0.9)
    seen: list[Level] = []
    rig.ladder.add("lvl", seen.append, "warning")
    rig.run(Level.CRITICAL)
    assert seen == [Level.CRITICAL]


def test_bad_configuration_is_refused() -> None:
    ladder = RecoveryLadder()
    with pytest.raises(ConfigError, match="unknown built-in"):
        ladder.add("defrag")
    ladder.add("gc")
    with pytest.raises(ConfigError, match="already"):
        ladder.add("gc")
    with pytest.raises(ConfigError, match="needs a target"):
        ladder.add("pause_intake")
    with pytest.raises(ConfigError, match="level must be"):
        ladder.add("x", lambda: None, "normal")
    with pytest.raises(ConfigError, match="unknown level"):
        ladder.add("y", lambda: None, "high")


def test_builtin_default_levels() -> None:
    ladder = RecoveryLadder()
    for name in ("gc", "malloc_trim", "clear_caches", "cuda_empty_cache"):
        assert ladder.add(name).level is Level.WARNING
    assert ladder.add("pause_intake", target=threading.Event()).level is Level.CRITICAL


def test_throttled_gc_spends_at_most_its_duty_cycle() -> None:
    clock = FakeClock()
    collect = ThrottledGC(max_duty=0.05, min_interval=1.0, clock=clock)
    assert collect() is True
    wait = collect.next_allowed - clock()
    assert wait >= 1.0  # at least min_interval, more if the collection was slow
    assert collect() is False
    clock.advance(wait - 0.001)
    assert collect() is False
    clock.now = collect.next_allowed
    assert collect() is True


def test_pause_intake_clears_the_event_and_the_relax_sets_it_again() -> None:
    rig = Rig(0.9)
    intake = threading.Event()
    intake.set()
    rig.ladder.add("pause_intake", intake)
    rig.run(Level.CRITICAL)
    assert not intake.is_set()
    assert rig.ladder.relax(Level.WARNING) == ["pause_intake"]
    assert intake.is_set()
    assert rig.ladder.relax(Level.NORMAL) == []  # undone once only


def test_pause_intake_with_a_function() -> None:
    rig = Rig(0.9)
    states: list[bool] = []
    rig.ladder.add("pause_intake", states.append)
    rig.run(Level.CRITICAL)
    rig.ladder.relax(Level.NORMAL)
    assert states == [True, False]


class _Cache:
    def __init__(self) -> None:
        self.items = list(range(100))

    def shrink(self, fraction: float) -> int:
        drop = int(len(self.items) * fraction)
        del self.items[:drop]
        return drop

    def clear(self) -> int:
        n = len(self.items)
        self.items.clear()
        return n


def test_clear_caches_shrinks_at_warning_and_clears_at_critical() -> None:
    cache = _Cache()
    reclaim.register(cache)
    try:
        rig = Rig(0.75)
        rig.ladder.add("clear_caches")
        rig.run(Level.WARNING)
        assert len(cache.items) == 50
        rig.clock.advance(10)
        rig.source.set_fraction(0.9)
        rig.run(Level.CRITICAL)
        assert cache.items == []
    finally:
        reclaim.unregister(cache)


def test_cuda_empty_cache_uses_only_imported_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.delitem(sys.modules, "cupy", raising=False)
    assert cuda_empty_cache() is False
    calls: list[str] = []
    torch = types.SimpleNamespace(
        cuda=types.SimpleNamespace(is_available=lambda: True, empty_cache=lambda: calls.append("torch"))
    )
    pool = types.SimpleNamespace(free_all_blocks=lambda: calls.append("pool"))
    cupy = types.SimpleNamespace(
        get_default_memory_pool=lambda: pool, get_default_pinned_memory_pool=lambda: pool
    )
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    assert cuda_empty_cache() is True
    assert calls == ["torch", "pool", "pool"]


def test_malloc_trim_builtin_runs() -> None:
    rig = Rig(0.75)
    rig.ladder.add("malloc_trim")
    outcomes, _s, _l = rig.run(Level.WARNING)
    if sys.platform.startswith("linux"):
        assert [o.name for o in outcomes] == ["malloc_trim"]
        assert outcomes[0].error == ""
