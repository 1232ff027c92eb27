"""Levels: thresholds as shares or sizes, hysteresis, cooldown, PSI and GPU triggers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memwatch.errors import ConfigError
from memwatch.guard.levels import Level, LevelPolicy, LevelTracker, Threshold, parse_threshold
from memwatch.model.guard import GuardSample

GIB = 1 << 30


def sample(
    fraction: float = 0.0,
    *,
    budget: int = GIB,
    some: float | None = None,
    full: float | None = None,
    gpu: tuple[int, int] | None = None,
) -> GuardSample:
    return GuardSample(
        0.0,
        round(budget * fraction),
        budget,
        "fake",
        "fake",
        some,
        full,
        {},
        gpu[0] if gpu else None,
        gpu[1] if gpu else None,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.7, Threshold(0.7)),
        (1.0, Threshold(1.0)),
        ("3 GiB", Threshold(float(3 * GIB), absolute=True)),
        (512 << 20, Threshold(float(512 << 20), absolute=True)),
    ],
)
def test_parse_threshold(value: float | int | str, expected: Threshold) -> None:
    assert parse_threshold(value) == expected


@pytest.mark.parametrize("value", [0.0, 1.5, -0.2, True, "lots", 0, "-1 MiB"])
def test_parse_threshold_rejects(value: object) -> None:
    with pytest.raises(ConfigError):
        parse_threshold(value)  # type: ignore[arg-type]


def test_thresholds_must_rise() -> None:
    with pytest.raises(ConfigError, match="must rise"):
        LevelPolicy(0.9, 0.8, 0.95)
    with pytest.raises(ConfigError, match="must rise"):
        LevelPolicy("2 GiB", "1 GiB", "3 GiB")


@pytest.mark.parametrize(
    ("fraction", "level"),
    [
        (0.0, Level.NORMAL),
        (0.69, Level.NORMAL),
        (0.70, Level.WARNING),
        (0.849, Level.WARNING),
        (0.851, Level.CRITICAL),
        (0.951, Level.EMERGENCY),
        (1.3, Level.EMERGENCY),
    ],
)
def test_enter_levels_from_normal(fraction: float, level: Level) -> None:
    assert LevelPolicy().evaluate(sample(fraction))[0] is level


def test_absolute_thresholds_follow_the_budget() -> None:
    policy = LevelPolicy("600 MiB", "800 MiB", "900 MiB")
    assert policy.evaluate(sample(0.5))[0] is Level.NORMAL  # 512 MiB
    assert policy.evaluate(sample(0.6))[0] is Level.WARNING  # 614 MiB
    assert policy.evaluate(sample(0.4, budget=2 * GIB))[0] is Level.CRITICAL  # 819 MiB
    assert policy.evaluate(sample(0.6, budget=2 * GIB))[0] is Level.EMERGENCY  # 1.2 GiB


def test_hysteresis_holds_until_below_the_leave_threshold() -> None:
    policy = LevelPolicy(hysteresis=0.05)
    assert policy.evaluate(sample(0.83), Level.CRITICAL)[0] is Level.CRITICAL  # 0.80 <= x < 0.85
    assert policy.evaluate(sample(0.79), Level.CRITICAL)[0] is Level.WARNING
    assert policy.evaluate(sample(0.66), Level.WARNING)[0] is Level.WARNING
    assert policy.evaluate(sample(0.64), Level.WARNING)[0] is Level.NORMAL
    assert policy.evaluate(sample(0.83), Level.NORMAL)[0] is Level.WARNING  # entering needs 0.85


def test_absolute_thresholds_are_left_a_share_of_themselves_below() -> None:
    policy = LevelPolicy("2 GiB", "3 GiB", "4 GiB", hysteresis=0.05)
    big = 24 * GIB  # a host budget: 5 % of it would be 1.2 GiB of hysteresis
    at = 2.0 / 24
    assert policy.evaluate(sample(at * 0.96, budget=big), Level.WARNING)[0] is Level.WARNING
    assert policy.evaluate(sample(at * 0.94, budget=big), Level.WARNING)[0] is Level.NORMAL


def test_psi_raises_the_level_and_has_its_own_hysteresis() -> None:
    policy = LevelPolicy(psi_warning=10.0, psi_critical=30.0)
    assert policy.evaluate(sample(0.1, some=12.0))[0] is Level.WARNING
    level, reason = policy.evaluate(sample(0.1, some=50.0, full=31.0))
    assert level is Level.CRITICAL
    assert "PSI full" in reason
    assert policy.evaluate(sample(0.1, some=6.0), Level.WARNING)[0] is Level.WARNING  # >= 10/2
    assert policy.evaluate(sample(0.1, some=4.0), Level.WARNING)[0] is Level.NORMAL
    assert LevelPolicy(psi_warning=None).evaluate(sample(0.1, some=99.0))[0] is Level.NORMAL


def test_gpu_memory_raises_the_level_but_never_to_emergency() -> None:
    policy = LevelPolicy()
    assert policy.evaluate(sample(0.1, gpu=(75, 100)))[0] is Level.WARNING
    level, reason = policy.evaluate(sample(0.1, gpu=(99, 100)))
    assert level is Level.CRITICAL
    assert "GPU" in reason


def test_reason_names_the_budget_source() -> None:
    level, reason = LevelPolicy().evaluate(sample(0.9))
    assert level is Level.CRITICAL
    assert "90.0%" in reason
    assert "(fake)" in reason


def test_tracker_escalates_at_once_and_waits_the_cooldown_to_fall() -> None:
    tracker = LevelTracker(LevelPolicy(), cooldown=5.0)
    assert tracker.update(sample(0.9), now=0.0) == (Level.CRITICAL, Level.NORMAL, tracker.reason)
    assert tracker.update(sample(0.1), now=4.9) is None  # inside the cooldown
    assert tracker.level is Level.CRITICAL
    change = tracker.update(sample(0.1), now=5.0)
    assert change is not None
    assert change[:2] == (Level.NORMAL, Level.CRITICAL)


def test_tracker_does_not_flap_around_a_threshold() -> None:
    tracker = LevelTracker(LevelPolicy(), cooldown=5.0)
    changes = 0
    for step in range(200):  # 20 s of checks at 0.1 s, usage jittering around 0.70
        fraction = 0.70 + (0.01 if step % 2 else -0.01)
        if tracker.update(sample(fraction), now=step * 0.1) is not None:
            changes += 1
    assert changes == 1
    assert tracker.level is Level.WARNING


def test_an_action_extends_the_hold() -> None:
    tracker = LevelTracker(LevelPolicy(), cooldown=5.0)
    tracker.update(sample(0.75), now=0.0)
    tracker.note_action(4.0)
    assert tracker.update(sample(0.1), now=8.9) is None
    assert tracker.update(sample(0.1), now=9.0) is not None


def test_level_parse() -> None:
    assert Level.parse("critical") is Level.CRITICAL
    assert Level.WARNING == "warning"
    with pytest.raises(ConfigError, match="unknown level"):
        Level.parse("panic")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 1.2), st.floats(0.0, 2.0)), min_size=1, max_size=60))
def test_tracker_properties(steps: list[tuple[float, float]]) -> None:
    """Escalation is immediate; a fall never comes within the cooldown of the last rise;
    the level in force is never below what the reading alone demands."""
    policy = LevelPolicy()
    tracker = LevelTracker(policy, cooldown=1.0)
    now = 0.0
    last_rise = float("-inf")
    for fraction, dt in steps:
        now += dt
        s = sample(fraction)
        change = tracker.update(s, now)
        fresh = policy.evaluate(s)[0]  # what the reading demands with no history
        assert tracker.level.rank >= fresh.rank
        if change is not None:
            new, previous, _reason = change
            if new.rank > previous.rank:
                last_rise = now
            else:
                assert now - last_rise >= 1.0
