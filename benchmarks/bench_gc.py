"""GCMonitor benchmarks: monitor overhead, callback cost per collection, the freeze finding.

Run: ``.venv/bin/python benchmarks/bench_gc.py`` (``--quick`` for a short run).

1. Overhead: an allocation-heavy, cycle-heavy workload (reference-cycle pairs plus
   short-lived containers) plain, with a no-op gc callback, and with a running
   GCMonitor, rotated in one process; the figures are medians of the per-round
   ratios to the plain run (target <= 1.03), in wall time and in CPU time.
2. Callback cost: the monitor's callback called directly with a start/stop pair
   (ns per collection), a no-op callback for comparison, and the added cost per
   real ``gc.collect(0)`` on an empty young generation (which includes the
   ``gc.collect`` wrapper the monitor installs to tell forced collections apart).
3. Freeze: a full collection with ~1M long-lived objects, measured by the monitor,
   without and with ``gc.freeze()`` (GCOptimizer), and what the advisor says.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from memwatch.gcwatch import GCMonitor, GCOptimizer


class Node:
    __slots__ = ("other", "payload")

    def __init__(self, payload: object = None) -> None:
        self.other: Node | None = None
        self.payload = payload


def workload(n: int) -> int:
    """Allocation- and cycle-heavy: n cyclic pairs and n short-lived lists/dicts."""
    total = 0
    for i in range(n):
        a, b = Node([i]), Node({"i": i})
        a.other, b.other = b, a
        total += len(a.payload)  # type: ignore[arg-type]
    return total


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _noop_callback(phase: str, info: dict[str, int]) -> None:
    pass


def overhead(n: int, pairs: int) -> dict[str, float]:
    """Median ratios to the plain run over rotated triples (plain, no-op callback, monitored).

    ``wall_run`` times the workload while the monitor records; ``wall_total`` adds
    ``stop()``, which builds the report (count_objects=False: no heap walk). The
    ``cpu_*`` figures use this process's CPU time, which other jobs on a shared
    machine disturb much less than wall time. ``*_noop`` is a callback that does
    nothing: the cost of ``gc.callbacks`` itself, which no monitor can avoid.
    """
    collections: list[int] = []
    split: list[tuple[float, float]] = []
    stops: list[float] = []

    def plain() -> None:
        workload(n)

    def noop() -> None:
        gc.callbacks.append(_noop_callback)
        try:
            workload(n)
        finally:
            gc.callbacks.remove(_noop_callback)

    def monitored() -> None:
        gm = GCMonitor(count_objects=False).start()
        workload(n)
        split.append((time.perf_counter(), time.process_time()))
        gm.stop()
        stops.append(time.perf_counter() - split[-1][0])
        collections.append(gm.report.collections)

    for fn in (plain, noop, monitored):  # warm up every path
        fn()
    ratios: dict[str, list[float]] = {
        key: [] for key in ("wall_run", "wall_total", "cpu_run", "cpu_total", "wall_noop", "cpu_noop")
    }
    a_times, b_times = [], []
    runs = (plain, noop, monitored)
    for i in range(pairs):
        order = runs[i % 3 :] + runs[: i % 3]
        got: dict[object, tuple[float, float, float, float]] = {}
        for fn in order:
            gc.collect()
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            w1, c1 = time.perf_counter(), time.process_time()
            run_w, run_c = split[-1] if fn is monitored else (w1, c1)
            got[fn] = (w1 - w0, run_w - w0, c1 - c0, run_c - c0)
        a, z, b = got[plain], got[noop], got[monitored]
        a_times.append(a[0])
        b_times.append(b[0])
        ratios["wall_total"].append(b[0] / a[0])
        ratios["wall_run"].append(b[1] / a[0])
        ratios["cpu_total"].append(b[2] / a[2])
        ratios["cpu_run"].append(b[3] / a[2])
        ratios["wall_noop"].append(z[0] / a[0])
        ratios["cpu_noop"].append(z[2] / a[2])
    out = {key: statistics.median(values) for key, values in ratios.items()}
    quartiles = statistics.quantiles(ratios["wall_total"], n=4)
    out.update({"wall_total_q1": quartiles[0], "wall_total_q3": quartiles[2]})
    out.update(
        {
            "plain_median_s": statistics.median(a_times),
            "monitored_median_s": statistics.median(b_times),
            "collections_per_run": statistics.median(collections),
            "pairs": float(pairs),
            "stop_ms": statistics.median(stops) * 1e3,
        }
    )
    return out


def callback_cost(calls: int, rounds: int) -> dict[str, float]:
    gm = GCMonitor(count_objects=False, max_collections=2 * calls + 8)
    callback = gm._callback()  # the very function gm.start() registers
    start_info = {"generation": 0, "collected": 0, "uncollectable": 0}
    stop_info = {"generation": 0, "collected": 12, "uncollectable": 0}

    def noop(phase: str, info: dict[str, int]) -> None:
        pass

    def direct(cb: Callable[[str, dict[str, int]], None]) -> float:
        best = float("inf")
        for _ in range(rounds):
            gm._rows.clear()
            t0 = time.perf_counter_ns()
            for _ in range(calls):
                cb("start", start_info)
                cb("stop", stop_info)
            best = min(best, (time.perf_counter_ns() - t0) / calls)
        return best

    def empty_loop() -> float:
        best = float("inf")
        for _ in range(rounds):
            t0 = time.perf_counter_ns()
            for _ in range(calls):
                pass
            best = min(best, (time.perf_counter_ns() - t0) / calls)
        return best

    def collect0(setup: Callable[[], None], teardown: Callable[[], None]) -> float:
        best = float("inf")
        for _ in range(rounds):
            setup()
            collect = gc.collect  # the wrapper while a monitor runs
            t0 = time.perf_counter_ns()
            for _ in range(calls // 10):
                collect(0)
            best = min(best, (time.perf_counter_ns() - t0) / (calls // 10))
            teardown()
        return best

    loop = empty_loop()
    out = {"monitor_callback_ns": direct(callback) - loop, "noop_callback_ns": direct(noop) - loop}
    gc.disable()
    try:
        base = collect0(lambda: None, lambda: None)
        with_noop = collect0(lambda: gc.callbacks.append(noop), lambda: gc.callbacks.remove(noop))
        mon = GCMonitor(count_objects=False, max_collections=calls + 8)
        with_monitor = collect0(mon.start, lambda: mon.stop() and None)
    finally:
        gc.enable()
    out.update(
        {
            "collect0_ns": base,
            "collect0_noop_added_ns": with_noop - base,
            "collect0_monitor_added_ns": with_monitor - base,
        }
    )
    return out


def freeze_finding(objects: int, repeats: int) -> dict[str, object]:
    gc.collect()
    longlived = [[i] for i in range(objects)]

    def full_pause() -> tuple[float, GCMonitor]:
        with GCMonitor() as gm:
            for _ in range(repeats):
                gc.collect()
        return statistics.median(gm.report.events.duration_ms[gm.report.events.generation == 2]), gm

    without, gm = full_pause()
    with GCOptimizer(freeze=True) as opt:
        with_freeze, _ = full_pause()
        frozen = opt.frozen_objects
    advice = GCOptimizer.advise(gm.report)
    del longlived
    return {
        "objects": objects,
        "gen2_pause_ms_without_freeze": without,
        "gen2_pause_ms_with_freeze": with_freeze,
        "frozen_objects": frozen,
        "tracked_objects": gm.report.tracked_objects,
        "advice": advice.summary(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (smaller workloads, fewer pairs)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    quick = (50_000, 6, 20_000, 200_000)
    n, pairs, calls, objects = quick if args.quick else (250_000, 45, 200_000, 1_000_000)
    results = {
        "python": sys.version.split()[0],
        "overhead": overhead(n, pairs),
        "callback": callback_cost(calls, rounds=5),
        "freeze": freeze_finding(objects, repeats=5),
    }
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    ov, cb, fr = results["overhead"], results["callback"], results["freeze"]
    assert isinstance(ov, dict)
    assert isinstance(cb, dict)
    assert isinstance(fr, dict)
    print(f"Python {results['python']}")
    print(
        f"overhead, monitored/plain, median of {pairs} rotated runs: wall time "
        f"{ov['wall_total']:.3f} including stop() and the report (quartiles {ov['wall_total_q1']:.3f}-"
        f"{ov['wall_total_q3']:.3f}; {ov['wall_run']:.3f} while recording); "
        f"CPU time {ov['cpu_total']:.3f} ({ov['cpu_run']:.3f}); a no-op callback alone: wall "
        f"{ov['wall_noop']:.3f}, CPU {ov['cpu_noop']:.3f}; plain {ov['plain_median_s'] * 1e3:.1f} ms, "
        f"monitored {ov['monitored_median_s'] * 1e3:.1f} ms, {ov['collections_per_run']:.0f} collections "
        f"per run, stop() {ov['stop_ms']:.2f} ms; target <= 1.03: "
        f"{'PASS' if ov['wall_total'] <= 1.03 else 'FAIL'}"
    )
    print(
        f"callback, called directly: monitor {cb['monitor_callback_ns']:.0f} ns per collection "
        f"(start + stop), no-op {cb['noop_callback_ns']:.0f} ns"
    )
    print(
        f"gc.collect(0) on an empty young generation: {cb['collect0_ns']:.0f} ns; added by a no-op "
        f"callback {cb['collect0_noop_added_ns']:.0f} ns, by a running GCMonitor "
        f"{cb['collect0_monitor_added_ns']:.0f} ns (callback + gc.collect wrapper)"
    )
    print(
        f"freeze: full collection with {fr['objects']:,} long-lived objects "
        f"({fr['tracked_objects']:,} tracked): median gen-2 pause "
        f"{fr['gen2_pause_ms_without_freeze']:.1f} ms without freeze, "
        f"{fr['gen2_pause_ms_with_freeze']:.3f} ms after gc.freeze() "
        f"({fr['frozen_objects']:,} frozen)"
    )
    print(f"advisor on the unfrozen report:\n{fr['advice']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
