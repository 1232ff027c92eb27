"""measure_operation / measure_pair on operations with known memory behaviour."""

from __future__ import annotations

import tracemalloc

import pytest

from memwatch.errors import ConfigError, OperationError
from memwatch.regression.abtest import measure_operation, measure_pair

_KEEP: list[bytearray] = []


def leak_10k() -> None:
    _KEEP.append(bytearray(10_000))


def burst_1m() -> int:
    return len(bytearray(1_000_000))


def test_growth_per_call_and_peak_are_measured() -> None:
    _KEEP.clear()
    leaky = measure_operation(leak_10k, samples=4, batch=5)
    assert len(leaky.growth) == 4
    assert all(9_900 <= g <= 11_000 for g in leaky.growth)
    assert all(p >= 5 * 10_000 for p in leaky.peak)
    bursty = measure_operation(burst_1m, samples=4, batch=5)
    assert all(abs(g) < 500 for g in bursty.growth)
    assert all(p >= 1_000_000 for p in bursty.peak)
    assert all(t > 0 for t in bursty.time)
    _KEEP.clear()
    assert not tracemalloc.is_tracing()  # left as found


def test_pair_is_measured_alternately_on_the_same_input() -> None:
    order: list[str] = []

    def a(x: int) -> None:
        order.append("a")

    def b(x: int) -> None:
        order.append("b")

    sa, sb = measure_pair(a, b, (1,), samples=3, batch=1, warmup=0)
    assert order == ["a", "b"] * 3
    assert len(sa.peak) == len(sb.peak) == 3
    assert sa.target.endswith("a")
    assert sb.target.endswith("b")


def test_bad_arguments_and_raising_operations() -> None:
    with pytest.raises(ConfigError, match="samples must be an integer >= 2"):
        measure_operation(burst_1m, samples=1)
    with pytest.raises(ConfigError, match="batch must be a positive integer"):
        measure_operation(burst_1m, batch=0)

    def broken() -> None:
        raise KeyError("missing")

    with pytest.raises(OperationError, match="raised KeyError") as info:
        measure_operation(broken, samples=2)
    assert "Traceback" in info.value.traceback_text
    assert not tracemalloc.is_tracing()

    async def coro() -> None:
        return None

    with pytest.raises(ConfigError, match="is async"):
        measure_operation(coro, samples=2)
