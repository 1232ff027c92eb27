"""What the capped child does for each scenario (child side; standard library only).

Every task takes ``(func, args, params, reporter)`` and returns a JSON-ready dict;
samples are reported as they are taken (``reporter.emit("sample", ...)``) so a
child that dies midway still leaves them. The parent turns them into verdicts
(:mod:`memwatch.stress.scenarios`).
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import statistics
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from memwatch.probes import native, process
from memwatch.stress.measure import PeakSampler, snapshot

__all__ = ["TASKS", "Emitter", "Task", "TaskFailed", "call_once", "churn"]


class Emitter(Protocol):
    def emit(self, event: str, **fields: Any) -> None: ...


class TaskFailed(Exception):
    """A task's own failure (not the user's code raising): ``kind`` names it."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


Task = Callable[[Callable[..., Any] | None, list[Any], dict[str, Any], Emitter], dict[str, Any]]


def call_once(func: Callable[..., Any], args: list[Any]) -> Any:
    """Call ``func(*args)``; a coroutine function runs to completion in a fresh event loop."""
    result = func(*args)
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    return result


def _need(func: Callable[..., Any] | None) -> Callable[..., Any]:
    if func is None:
        raise TaskFailed("bad-spec", "this scenario needs a module:callable target")
    return func


def task_call(
    func: Callable[..., Any] | None, args: list[Any], params: dict[str, Any], rep: Emitter
) -> dict[str, Any]:
    """One call at one load (a ramp trial): wall time and the peak RSS."""
    gc.collect()
    process.reset_peak_rss()
    start = time.perf_counter()
    result = call_once(_need(func), args)
    wall = time.perf_counter() - start
    peak = process.peak_rss()
    del result
    return {"wall": wall, "peak_rss": peak.value, "rss": float(process.rss())}


def task_spike(
    func: Callable[..., Any] | None, args: list[Any], params: dict[str, Any], rep: Emitter
) -> dict[str, Any]:
    """Baseline, then ``repeats`` spikes: peak while the result is held, then after release + gc."""
    func = _need(func)
    gc.collect()
    tracemalloc.start(1)
    base = snapshot("baseline")
    rep.emit("sample", **base)
    spikes = []
    for index in range(int(params.get("repeats", 1))):
        tracemalloc.reset_peak()
        process.reset_peak_rss()
        with PeakSampler(float(params.get("interval", 0.002))) as sampler:
            result = call_once(func, args)
            held = snapshot(f"spike {index + 1} held")
        heap_peak = float(tracemalloc.get_traced_memory()[1])
        hwm = process.peak_rss().value or 0.0
        peak = dict(
            held,
            label=f"spike {index + 1} peak",
            heap=max(heap_peak, held["heap"]),
            rss=max(hwm, sampler.rss_peak, held["rss"]),
            native=max(sampler.native_peak, held["native"]),
        )
        del result
        gc.collect()
        after = snapshot(f"spike {index + 1} after")
        rep.emit("sample", **peak)
        rep.emit("sample", **after)
        spikes.append({"peak": peak, "after": after})
    tracemalloc.stop()
    return {"baseline": base, "spikes": spikes}


def churn(size: int) -> None:
    """Allocate ``size`` bytes in small objects of mixed sizes, punch holes, then free them all."""
    sizes = (48, 200, 600, 1500, 3000)
    items: list[bytes | None] = []
    total = 0
    while total < size:
        n = sizes[len(items) % len(sizes)]
        items.append(b"x" * n)
        total += n
    for i in range(0, len(items), 2):  # holes between survivors, refilled with other sizes
        items[i] = None
    for i in range(0, len(items), 4):
        items[i] = b"y" * sizes[(i + 2) % len(sizes)]
    items.clear()


def task_fragmentation(
    func: Callable[..., Any] | None, args: list[Any], params: dict[str, Any], rep: Emitter
) -> dict[str, Any]:
    """``cycles`` allocation/deallocation cycles; a reading after each, and one after malloc_trim."""
    cycles = int(params.get("cycles", 100))
    size = int(params.get("size", 50_000_000))
    gc.collect()
    if params.get("trace", True):
        tracemalloc.start(1)
    base = snapshot("baseline")
    rep.emit("sample", **base)
    for index in range(cycles):
        if func is None:
            churn(size)
        else:
            result = call_once(func, args)
            del result
        gc.collect()
        rep.emit("sample", **snapshot(f"cycle {index + 1}"))
    trimmed = native.malloc_trim(0)
    after_trim = snapshot("after malloc_trim")
    rep.emit("sample", **after_trim)
    tracemalloc.stop()
    return {"cycles": cycles, "size": size if func is None else None, "trimmed": trimmed}


def task_concurrent(
    func: Callable[..., Any] | None, args: list[Any], params: dict[str, Any], rep: Emitter
) -> dict[str, Any]:
    """Threads and asyncio tasks call ``func`` at once while a ballast holds part of the cap."""
    func = _need(func)
    threads = int(params.get("threads", 4))
    tasks = int(params.get("tasks", 4))
    iterations = int(params.get("iterations", 10))
    timeout = float(params.get("timeout", 60.0))
    gc.collect()
    base = snapshot("baseline")
    rep.emit("sample", **base)
    ballast = bytearray(_ballast(params, threads + tasks + 1))
    ballast[::4096] = b"\x01" * len(range(0, len(ballast), 4096))
    errors: Counter[str] = Counter()
    durations: list[float] = []
    lock = threading.Lock()

    def record(started: float, exc: BaseException | None) -> None:
        with lock:
            durations.append(time.perf_counter() - started)
            if exc is not None:
                errors[type(exc).__name__] += 1

    def worker() -> None:
        for _ in range(iterations):
            started = time.perf_counter()
            try:
                call_once(func, args)
            except Exception as exc:
                record(started, exc)
            else:
                record(started, None)

    async def one_task() -> None:
        for _ in range(iterations):
            started = time.perf_counter()
            try:
                if inspect.iscoroutinefunction(func):
                    await func(*args)
                else:
                    await asyncio.to_thread(func, *args)
            except Exception as exc:
                record(started, exc)
            else:
                record(started, None)

    async def all_tasks() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=max(1, tasks)))
        await asyncio.gather(*(one_task() for _ in range(tasks)))

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, daemon=True, name=f"stress-{i}") for i in range(threads)]
    with PeakSampler(0.01) as sampler:
        for thread in pool:
            try:
                thread.start()
            except RuntimeError:  # "can't start new thread": no room for its stack
                errors["ThreadStartError"] += 1
        if tasks:
            asyncio.run(asyncio.wait_for(all_tasks(), timeout))
        deadline = started + timeout
        for thread in pool:
            thread.join(max(0.0, deadline - time.perf_counter()))
    hung = sum(thread.is_alive() for thread in pool if thread.ident is not None)
    wall = time.perf_counter() - started
    peak = dict(snapshot("peak"), rss=sampler.rss_peak, native=sampler.native_peak)
    del ballast
    gc.collect()
    after = snapshot("after")
    rep.emit("sample", **peak)
    rep.emit("sample", **after)
    return {
        "calls": (threads + tasks) * iterations,
        "completed": len(durations),
        "errors": dict(errors),
        "hung_threads": hung,
        "wall": wall,
        "median_call": statistics.median(durations) if durations else None,
    }


# The ballast only needs to bring the workload near its cap; touching more than this
# costs a shared machine memory for nothing.
MAX_BALLAST = 1 << 30


def _ballast(params: dict[str, Any], threads: int) -> int:
    """``ballast`` x the room left under the cap: the cap minus the data already mapped
    (VmData) and a default-size stack per thread to come (RLIMIT_DATA counts stacks).

    Bounded by MAX_BALLAST and by half of what the machine has available now."""
    fraction = float(params.get("ballast", 0.0))
    limit = int(params.get("limit", 0))
    if fraction <= 0 or limit <= 0:
        return 0
    stack = threading.stack_size() or 8 * 2**20
    room = limit - _vm_data() - threads * stack
    wanted = min(int(fraction * room), MAX_BALLAST)
    from memwatch.stress.cap import available_memory

    available, _ = available_memory()
    if available is not None:
        wanted = min(wanted, available // 2)
    return max(0, wanted)


def _vm_data() -> int:
    return process.status_bytes("VmData") or 0


def task_soak(
    func: Callable[..., Any] | None, args: list[Any], params: dict[str, Any], rep: Emitter
) -> dict[str, Any]:
    """Call ``func`` in a loop for ``duration`` seconds; a sample every ``interval`` seconds."""
    func = _need(func)
    duration = float(params.get("duration", 10.0))
    interval = float(params.get("interval", max(0.05, duration / 200)))
    calls = 0
    gc.collect()
    rep.emit("sample", **snapshot("baseline"))
    end = time.monotonic() + duration

    def emit(sample: dict[str, Any]) -> None:
        rep.emit("sample", **sample)

    with PeakSampler(interval, on_sample=emit):
        while time.monotonic() < end:
            result = call_once(func, args)
            del result
            calls += 1
    gc.collect()
    rep.emit("sample", **snapshot("end"))
    return {"calls": calls, "duration": duration, "interval": interval}


TASKS: dict[str, Task] = {
    "call": task_call,
    "spike": task_spike,
    "fragmentation": task_fragmentation,
    "concurrent": task_concurrent,
    "soak": task_soak,
}
