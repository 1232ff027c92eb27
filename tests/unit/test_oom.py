"""oom_protected with fake CUDA/CuPy out-of-memory errors: fallbacks, stickiness, recovery."""

from __future__ import annotations

import gc
import logging
import sys
import threading
import weakref
from typing import Any

import pytest

from memwatch.guard import MemoryGuard, oom_protected
from memwatch.guard.fakes import FakeClock, FakeSource
from memwatch.guard.oom import OomProtector, classify_oom
from memwatch.model.guard import OomEvent


class OutOfMemoryError(RuntimeError):
    """Shaped like torch.cuda.OutOfMemoryError (a RuntimeError subclass)."""


class CupyOutOfMemoryError(MemoryError):
    pass


CupyOutOfMemoryError.__name__ = "OutOfMemoryError"  # CuPy's name, a MemoryError subclass


class FakeGpu:
    """A device that runs out of memory above ``capacity`` units."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.calls: list[tuple[str, int]] = []

    def work(self, n: int, batch_size: int = 64, device: str = "cuda") -> str:
        self.calls.append((device, batch_size))
        if device == "cuda" and batch_size > self.capacity:
            raise OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return f"{n}@{device}/{batch_size}"


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (MemoryError(), "host"),
        (OutOfMemoryError("CUDA out of memory."), "gpu"),
        (CupyOutOfMemoryError("Out of memory allocating 1,024 bytes"), "gpu"),
        (RuntimeError("CUDA error: out of memory"), "gpu"),
        (RuntimeError("cuDNN error: CUDNN_STATUS_ALLOC_FAILED"), "gpu"),
        (RuntimeError("cudaErrorMemoryAllocation: out of memory"), "gpu"),
        (RuntimeError("shape mismatch"), None),
        (ValueError("out of memory"), None),
        (KeyboardInterrupt(), None),
    ],
)
def test_classify_oom(exc: BaseException, kind: str | None) -> None:
    assert classify_oom(exc) == kind


def test_fallbacks_are_tried_in_order_and_the_user_is_told(caplog: pytest.LogCaptureFixture) -> None:
    gpu = FakeGpu(capacity=8)
    events: list[OomEvent] = []
    protected = oom_protected(fallbacks=[{"batch_size": 16}, {"batch_size": 8}, "cpu"], on_oom=events.append)(
        gpu.work
    )
    with caplog.at_level(logging.WARNING, logger="memwatch.guard"):
        assert protected(1) == "1@cuda/8"
    assert gpu.calls == [("cuda", 64), ("cuda", 16), ("cuda", 8)]
    assert [(e.attempt, e.action, e.kind) for e in events] == [(0, "retry", "gpu"), (1, "retry", "gpu")]
    assert events[0].option == "{'batch_size': 16}"
    assert events[0].error_type == "OutOfMemoryError"
    assert "CUDA out of memory" in events[0].message
    assert caplog.text.count("memwatch oom_protected") == 2
    assert protected.oom.metrics_data.as_dict()["counters"]["ooms.gpu"] == 2


def test_device_fallback_and_callable_fallback() -> None:
    gpu = FakeGpu(capacity=0)
    assert oom_protected(fallbacks=["cpu"])(gpu.work)(2) == "2@cpu/64"
    alt = oom_protected(fallbacks=[lambda n, **kw: f"alt {n}"])(gpu.work)
    assert alt(3) == "alt 3"


def test_exhausted_fallbacks_raise_the_last_error() -> None:
    gpu = FakeGpu(capacity=0)
    events: list[OomEvent] = []
    protected = oom_protected(fallbacks=[{"batch_size": 1}], on_oom=events.append)(gpu.work)
    with pytest.raises(OutOfMemoryError):
        protected(1)
    assert [e.action for e in events] == ["retry", "exhausted"]


def test_other_errors_pass_straight_through() -> None:
    calls = []

    @oom_protected(fallbacks=["cpu"])
    def bad(device: str = "cuda") -> None:
        calls.append(device)
        raise ValueError("not memory")

    with pytest.raises(ValueError, match="not memory"):
        bad()
    assert calls == ["cuda"]


def test_bare_decorator_retries_nothing_but_counts() -> None:
    @oom_protected
    def host() -> None:
        raise MemoryError

    with pytest.raises(MemoryError):
        host()
    assert host.oom.metrics_data.as_dict()["counters"]["ooms.host"] == 1


def test_sticky_after_n_consecutive_ooms_then_recovery_after_the_cooldown() -> None:
    clock = FakeClock()
    state = {"gpu_full": True}
    devices: list[str] = []

    def step(device: str) -> str:
        devices.append(device)
        if device == "cuda" and state["gpu_full"]:
            raise OutOfMemoryError("CUDA out of memory")
        return device

    events: list[OomEvent] = []
    p = OomProtector(["cpu"], sticky_after=3, recover_after=30.0, clock=clock, on_oom=events.append)
    for _ in range(3):
        assert p.run(step) == "cpu"
    assert p.current_option == "cpu"
    assert events[-1].action == "sticky"
    devices.clear()
    assert p.run(step) == "cpu"
    assert devices == ["cpu"]  # stays on the fallback: no GPU attempt
    clock.advance(30.0)
    assert p.run(step) == "cpu"  # the probe fails: stays, waits twice as long
    assert devices[-2:] == ["cuda", "cpu"]
    clock.advance(30.0)
    devices.clear()
    p.run(step)
    assert devices == ["cpu"]
    state["gpu_full"] = False
    clock.advance(30.0)
    assert p.run(step) == "cuda"  # recovered after 60 s
    assert p.current_option == "cuda"
    assert events[-1].action == "recovered"
    assert p.metrics_data.as_dict()["counters"]["oom_recoveries"] == 1


def test_a_success_resets_the_consecutive_count() -> None:
    flaky = iter([True, False, True, True, False])

    def step(device: str) -> str:
        if device == "cuda" and next(flaky):
            raise MemoryError
        return device

    p = OomProtector(["cpu"], sticky_after=2, clock=FakeClock())
    results = [p.run(step) for _ in range(3)]
    assert results == ["cpu", "cuda", "cpu"]
    assert p.start_index == 0
    p.run(step)  # second OOM in a row: sticky now
    assert p.start_index == 1


def test_the_failed_attempt_is_released_before_the_retry() -> None:
    class Tensor:
        pass

    refs: list[weakref.ref[Tensor]] = []
    alive_at_retry: list[bool] = []

    def step(device: str) -> str:
        if device == "cuda":
            big = Tensor()
            refs.append(weakref.ref(big))
            raise OutOfMemoryError("CUDA out of memory")
        alive_at_retry.append(refs[0]() is not None)
        return device

    assert OomProtector(["cpu"]).run(step) == "cpu"
    assert alive_at_retry == [False]


def test_rapid_toggle_fifty_cycles_does_not_leak(caplog: pytest.LogCaptureFixture) -> None:
    # pytest keeps every log record for its report: keep the log quiet so only the
    # protector's own memory is measured.
    caplog.set_level(logging.ERROR, logger="memwatch.guard")
    clock = FakeClock()
    recoveries: list[str] = []
    p = OomProtector(
        ["cpu"],
        sticky_after=1,
        recover_after=1.0,
        max_recover_after=1.0,
        clock=clock,
        history=20,
        recover=recoveries.append,
    )  # no gc.collect x 110
    gpu_full = [True]
    last: list[weakref.ref[Batch]] = []
    leaked_into_retry = [0]

    class Batch(bytearray):
        pass

    def step(device: str) -> int:
        if last and last[0]() is not None:
            leaked_into_retry[0] += 1
        data = Batch(1 << 16)  # the "batch" an attempt holds
        last[:] = [weakref.ref(data)]
        if device == "cuda" and gpu_full[0]:
            raise OutOfMemoryError("CUDA out of memory")
        return len(data)

    def cycle() -> None:
        gpu_full[0] = True
        p.run(step)  # cuda fails -> cpu, sticky
        clock.advance(1.0)
        gpu_full[0] = False
        p.run(step)  # probe -> back on cuda
        assert p.current_option == "cuda"

    for _ in range(5):
        cycle()
    gc.collect()
    blocks = sys.getallocatedblocks()
    for _ in range(50):
        cycle()
    gc.collect()
    assert sys.getallocatedblocks() - blocks < 100
    assert leaked_into_retry == [0]
    assert len(p.events) == 20
    counters = p.metrics_data.as_dict()["counters"]
    assert counters["oom_recoveries"] == 55
    assert counters["ooms.gpu"] == 55
    assert len(recoveries) == 55


def test_with_block_counts_recovers_and_reraises() -> None:
    events: list[OomEvent] = []
    with pytest.raises(MemoryError), oom_protected(on_oom=events.append):
        raise MemoryError("host")
    assert [e.action for e in events] == ["exhausted"]
    with oom_protected() as p:
        assert p.call(lambda: 5) == 5


def test_the_guard_ladder_runs_after_an_oom() -> None:
    clock = FakeClock()
    guard = MemoryGuard(source=FakeSource(budget=1000, usage=100, clock=clock), clock=clock, reserve=0)
    freed: list[int] = []
    emptied: list[int] = []
    intake = threading.Event()
    intake.set()
    guard.add_strategy("free", lambda: freed.append(1), level="warning")
    guard.add_strategy("empty", lambda: emptied.append(1), level="warning")
    guard.add_strategy("pause_intake", intake)
    p = oom_protected(fallbacks=["cpu"], guard=guard)

    def step(device: str) -> str:
        if device == "cuda":
            raise OutOfMemoryError("CUDA out of memory")
        return device

    assert p.run(step) == "cpu"
    assert p.run(step) == "cpu"  # forced: the rung's cooldown does not hold it back
    assert freed == [1, 1]
    assert emptied == [1, 1]  # host memory looks normal: every warning rung still runs
    assert intake.is_set()  # rungs above warning are left to the level itself
    counters: dict[str, Any] = guard.metrics()["counters"]
    assert counters["ooms.gpu"] == 2
    assert counters["strategy_runs.free"] == 2


def test_coroutine_functions_are_protected_too() -> None:
    import asyncio

    devices: list[str] = []

    @oom_protected(fallbacks=["cpu"])
    async def infer(x: int, device: str = "cuda") -> str:
        await asyncio.sleep(0)
        devices.append(device)
        if device == "cuda":
            raise OutOfMemoryError("CUDA out of memory")
        return f"{x} on {device}"

    assert asyncio.run(infer(3)) == "3 on cpu"
    assert devices == ["cuda", "cpu"]
    assert infer.oom.metrics_data.as_dict()["counters"]["oom_retries"] == 1
