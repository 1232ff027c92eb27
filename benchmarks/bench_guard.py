"""Guard benchmarks: cost of one check, thread overhead, reaction latency.

    .venv/bin/python benchmarks/bench_guard.py [--quick]

1. One ``MemoryGuard.check()`` (source read + level + metrics), median µs, for the
   real source of this machine and for a cgroup v2 source on a fake tree on disk
   (memory.current, memory.stat, memory.events, memory.pressure: every file a
   container check reads). Target: <= 50 µs.
2. Guard thread overhead at a 100 ms interval on a reference workload (pure
   Python arithmetic and small allocations), guard off and on alternated, medians
   of the run times. Target: ratio <= 1.01.
3. Reaction latency from a threshold crossing to the handler, with the injectable
   source, at a 100 ms interval. Target: <= 2 check intervals.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from memwatch.guard import MemoryGuard
from memwatch.guard.fakes import FakeSource
from memwatch.guard.source import SystemSource
from memwatch.probes.cgroup import CgroupReader

MIB = 1 << 20


def fake_v2_tree(root: Path) -> CgroupReader:
    (root / "proc" / "self").mkdir(parents=True)
    (root / "proc" / "self" / "cgroup").write_text("0::/app\n")
    own = root / "fs" / "app"
    own.mkdir(parents=True)
    (root / "fs" / "cgroup.controllers").write_text("memory\n")
    (own / "memory.max").write_text(f"{4096 * MIB}\n")
    (own / "memory.high").write_text("max\n")
    (own / "memory.current").write_text(f"{1024 * MIB}\n")
    stat = "".join(f"key{i} {i}\n" for i in range(20)) + f"inactive_file {100 * MIB}\n"
    (own / "memory.stat").write_text(stat + "".join(f"more{i} {i}\n" for i in range(20)))
    (own / "memory.events").write_text("low 0\nhigh 3\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n")
    (own / "memory.pressure").write_text(
        "some avg10=0.12 avg60=0.10 avg300=0.02 total=123456\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=4567\n"
    )
    return CgroupReader(proc_root=root / "proc", fs_root=root / "fs")


def bench_check(source: Any, n: int) -> tuple[float, str]:
    guard = MemoryGuard(source=source, reserve=0)
    guard.add_strategy("gc")
    for _ in range(100):
        guard.check()
    times = []
    for _ in range(n):
        start = time.perf_counter_ns()
        guard.check()
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times) / 1000, f"{source.budget_source}, usage {source.usage_source}"


def workload() -> tuple[float, float]:
    """(wall seconds, this thread's CPU seconds) of the reference workload."""
    start, cpu = time.perf_counter(), time.thread_time()
    total = 0
    items = []
    for i in range(1_200_000):
        total += i * i % 7
        if i % 8 == 0:
            items.append({"i": i})
        if len(items) > 1000:
            items.clear()
    return time.perf_counter() - start, time.thread_time() - cpu


def _thread_cpu(thread: threading.Thread | None) -> float:
    """CPU seconds the thread has used (Linux); NaN where it cannot be read."""
    if thread is None or thread.ident is None:
        return float("nan")
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    except (AttributeError, OSError):
        return float("nan")


def bench_overhead(pairs: int) -> dict[str, float]:
    """Off/on medians of wall and main-thread CPU time, and the guard thread's CPU share.

    Off and on alternate (ABBA), each after the same pause. Wall time includes what
    the scheduler does on a shared machine; the application's CPU time and the guard
    thread's own CPU time do not, so they bound the guard's cost more tightly.
    """
    workload()
    wall: dict[bool, list[float]] = {False: [], True: []}
    cpu: dict[bool, list[float]] = {False: [], True: []}
    shares = []
    for i in range(pairs):
        guard = MemoryGuard(check_interval=0.1, reserve=0)
        for guarded in (False, True) if i % 2 == 0 else (True, False):
            if guarded:
                guard.start()
            time.sleep(0.15)  # the same pause before both kinds; past the thread's start
            cpu0 = _thread_cpu(guard._thread)
            elapsed, used = workload()
            if guarded:
                shares.append((_thread_cpu(guard._thread) - cpu0) / elapsed)
                guard.stop()
            wall[guarded].append(elapsed)
            cpu[guarded].append(used)
        guard.close()
    med = {
        f"{kind}_{'on' if g else 'off'}": statistics.median(d[g])
        for kind, d in (("wall", wall), ("cpu", cpu))
        for g in (False, True)
    }
    med["wall_ratio"] = med["wall_on"] / med["wall_off"]
    med["cpu_ratio"] = med["cpu_on"] / med["cpu_off"]
    med["guard_share"] = statistics.median(shares)
    return med


def bench_thread_check(seconds: float) -> tuple[float, int]:
    """Median wall time of a check in the guard thread while this thread computes."""
    guard = MemoryGuard(check_interval=0.05, reserve=0)
    durations: list[float] = []
    check = guard.check

    def timed() -> None:
        start = time.perf_counter()
        check()
        durations.append(time.perf_counter() - start)

    guard._runner._check = timed
    guard.start()
    end, x = time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        for i in range(1000):
            x += i * i % 7
    guard.stop()
    guard.close()
    return statistics.median(durations), len(durations)


def bench_latency(trials: int, interval: float) -> list[float]:
    source = FakeSource(budget=1000, usage=100)
    guard = MemoryGuard(source=source, check_interval=interval, cooldown=0.0, reserve=0)
    fired = threading.Event()
    back = threading.Event()
    stamp: list[float] = []

    def handler(level: str, details: dict[str, Any]) -> None:
        if level == "warning":
            stamp.append(time.perf_counter())
            fired.set()
        elif level == "normal":
            back.set()

    guard.add_handler(handler)
    rng = random.Random(1)
    latencies = []
    with guard:
        for _ in range(trials):
            time.sleep(rng.uniform(0, interval))  # cross at a random phase of the schedule
            fired.clear()
            back.clear()
            crossed = time.perf_counter()
            source.usage = 750
            fired.wait(10)
            latencies.append((stamp[-1] - crossed) / interval)
            source.usage = 100
            back.wait(10)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    logging.getLogger("memwatch.guard").setLevel(logging.ERROR)  # the latency runs alert 40 times
    n = 2000 if args.quick else 20000
    print(f"guard benchmarks ({'quick' if args.quick else 'full'})")
    real = SystemSource()
    us, what = bench_check(real, n)
    print(f"1a. one check, this machine's source ({what}): median {us:.1f} µs (target <= 50)")
    real.close()
    with tempfile.TemporaryDirectory() as tmp:
        v2 = SystemSource(reader=fake_v2_tree(Path(tmp)), gpu=False)
        us, what = bench_check(v2, n)
        v2.close()
    print(f"1b. one check, cgroup v2 source on a fake tree ({what}): median {us:.1f} µs (target <= 50)")
    o = bench_overhead(6 if args.quick else 20)
    print(
        f"2.  thread overhead at 100 ms, {6 if args.quick else 20} off/on pairs: wall median "
        f"{o['wall_off'] * 1000:.1f} ms off, {o['wall_on'] * 1000:.1f} ms on, ratio "
        f"{o['wall_ratio']:.4f}; application CPU ratio {o['cpu_ratio']:.4f} (target <= 1.01); "
        f"guard thread CPU {o['guard_share']:.3%} of the run"
    )
    med, n = bench_thread_check(1.0 if args.quick else 3.0)
    print(
        f"2b. one check in the guard thread while the application computes: median wall "
        f"{med * 1e6:.0f} µs over {n} checks"
    )
    lat = bench_latency(10 if args.quick else 40, 0.1)
    print(
        f"3.  reaction latency at 100 ms interval: median {statistics.median(lat):.2f}, "
        f"max {max(lat):.2f} check intervals over {len(lat)} crossings (target <= 2)"
    )


if __name__ == "__main__":
    main()
