"""Child-side tasks behind the seed APIs: pressure levels and the CPU/GPU toggle harness.

``pressure`` allocates each level with :class:`MemoryPressureSimulator` for a
number of cycles, releasing after each, until a level does not fit under the cap
(the breaking point). ``harness`` is the seed's toggle loop: every
``toggle`` seconds it switches between holding ``cpu`` bytes (touched) plus
``gpu`` bytes on the device and holding nothing, for ``duration`` seconds, and
counts out-of-memory errors on both sides. With a target, each on-phase also calls
it once (the application's own toggle, the seed's "recording" switched on), and
what it keeps shows as growth across the off-phases.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

from memwatch.probes import process
from memwatch.stress.gpu import gpu_allocator, is_gpu_oom
from memwatch.stress.measure import snapshot
from memwatch.stress.simulator import MemoryPressureSimulator
from memwatch.stress.tasks import Emitter, Task, call_once

__all__ = ["TASKS", "task_harness", "task_pressure"]


def task_pressure(
    func: Callable[..., Any] | None, args: list[Any], params: dict[str, Any], rep: Emitter
) -> dict[str, Any]:
    """Allocate and release each level ``cycles`` times; stop at the first level that fails."""
    sim = MemoryPressureSimulator()
    cycles = int(params.get("cycles", 3))
    for level in params["levels"]:
        for cycle in range(cycles):
            gc.collect()
            before = float(process.rss())
            rep.emit("level", level=level, cycle=cycle)
            try:
                sim.allocate_memory(level / 1e6)
                peak = float(process.rss())
            except MemoryError:
                sim.release_memory()
                gc.collect()
                rep.emit("breaking", level=level, cycle=cycle)
                return {"breaking_level": level}
            sim.release_memory()
            gc.collect()
            rep.emit("cycle", level=level, cycle=cycle, before=before, peak=peak, after=float(process.rss()))
    return {"breaking_level": None}


def _sleep_until(deadline: float) -> None:
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.5))


def task_harness(
    func: Callable[..., Any] | None, args: list[Any], params: dict[str, Any], rep: Emitter
) -> dict[str, Any]:
    """Toggle CPU (and GPU) pressure on and off every ``toggle`` seconds for ``duration`` seconds."""
    duration = float(params["duration"])
    toggle = float(params["toggle"])
    cpu = int(params.get("cpu", 0))
    gpu = int(params.get("gpu", 0))
    device, reason = gpu_allocator(params.get("fake_gpu_total")) if gpu else (None, "not asked for")
    sim = MemoryPressureSimulator()
    counts = {"cycles": 0, "cpu_errors": 0, "gpu_ooms": 0, "gpu_allocations": 0, "calls": 0}
    gc.collect()
    rep.emit("sample", **snapshot("baseline"))
    start = time.monotonic()
    end = start + duration
    phase_end = start
    while time.monotonic() < end:
        counts["cycles"] += 1
        cycle = counts["cycles"]
        try:
            if cpu:
                sim.allocate_memory(cpu / 1e6)
        except MemoryError:
            counts["cpu_errors"] += 1
        if device is not None:
            try:
                device.allocate(gpu)
                counts["gpu_allocations"] += 1
            except Exception as exc:
                if not is_gpu_oom(exc):
                    raise
                counts["gpu_ooms"] += 1
                rep.emit("gpu-oom", cycle=cycle, message=str(exc)[:300])
        if func is not None:
            result = call_once(func, args)
            del result
            counts["calls"] += 1
        rep.emit("sample", **snapshot(f"on {cycle}"))
        phase_end = min(end, phase_end + toggle)
        _sleep_until(phase_end)
        sim.release_memory()
        if device is not None:
            device.release()
        gc.collect()
        rep.emit("sample", **snapshot(f"off {cycle}"))
        phase_end = min(end, phase_end + toggle)
        _sleep_until(phase_end)
    return dict(
        counts,
        gpu=device.name if device is not None else f"unavailable ({reason})" if gpu else "not asked for",
        gpu_available=device is not None,
        duration=time.monotonic() - start,
    )


TASKS: dict[str, Task] = {"pressure": task_pressure, "harness": task_harness}
