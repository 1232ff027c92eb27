"""Stress harness benchmarks: breaking point by bisection vs a linear ramp, and the cost of a capped child.

    .venv/bin/python benchmarks/bench_stress.py [--quick]

1. Trials needed to locate a breaking point to the same resolution, bisection
   against a linear ramp (pure, synthetic thresholds).
2. Wall time to find the real breaking point of ``workloads:hold`` under a
   256 MiB cap with one capped child per trial, the two searches alternated
   ``rounds`` times; medians reported.
3. Cost of the child harness: one ``workloads:steady`` call in-process against
   one call in a capped child (spawn, cap, report, reap), alternated; medians.
"""

from __future__ import annotations

import argparse
import statistics
import time

from memwatch.stress.analysis import bisect_breaking_point, linear_breaking_point
from memwatch.stress.child import run_child
from memwatch.stress.workloads import steady

MiB = 2**20
CAP = 256 * MiB


def synthetic_trials() -> None:
    print("1. trials to locate a breaking point within 4 load units (synthetic threshold)")
    print(f"   {'breaking point':>14} {'bisection':>10} {'linear (step 4)':>16}")
    for point in (50, 250, 1000, 4000):

        def probe(load: int, point: int = point) -> bool:
            return load < point

        bis = bisect_breaking_point(probe, start=1, max_load=10**6, resolution=4)
        lin = linear_breaking_point(probe, start=4, step=4, max_load=10**6)
        print(f"   {point:>14} {len(bis.trials):>10} {len(lin.trials):>16}")


def child_probe(load: int) -> bool:
    return run_child(
        "call", limit=CAP, target="memwatch.stress.workloads:hold", args=(load,), timeout=60
    ).outcome.completed


def real_search(rounds: int, step: int) -> None:
    print(
        f"\n2. real breaking point of workloads:hold under a {CAP // MiB} MiB cap, resolution {step} MB, "
        f"{rounds} alternated rounds"
    )
    times: dict[str, list[float]] = {"bisection": [], "linear": []}
    found: dict[str, tuple[int | None, int]] = {}
    for _ in range(rounds):
        for name in ("bisection", "linear"):
            start = time.perf_counter()
            if name == "bisection":
                search = bisect_breaking_point(child_probe, start=step, max_load=1000, resolution=step)
            else:
                search = linear_breaking_point(child_probe, start=step, step=step, max_load=1000)
            times[name].append(time.perf_counter() - start)
            found[name] = (search.breaking_point, len(search.trials))
    for name, values in times.items():
        point, trials = found[name]
        print(
            f"   {name:<10} breaking point {point} MB in {trials} children, "
            f"median {statistics.median(values):.2f} s"
        )
    ratio = statistics.median(times["linear"]) / statistics.median(times["bisection"])
    print(f"   linear / bisection wall time: {ratio:.1f}x")


def harness_cost(rounds: int) -> None:
    print(f"\n3. one steady() call in-process vs in a capped child, {rounds} alternated rounds")
    inproc: list[float] = []
    child: list[float] = []
    for _ in range(rounds):
        start = time.perf_counter()
        steady()
        inproc.append(time.perf_counter() - start)
        start = time.perf_counter()
        run = run_child("call", limit=CAP, target="memwatch.stress.workloads:steady", timeout=60)
        child.append(time.perf_counter() - start)
        assert run.outcome.completed, run.outcome.error
    print(
        f"   in-process median {statistics.median(inproc) * 1e3:.3f} ms; "
        f"capped child median {statistics.median(child) * 1e3:.0f} ms "
        f"(min {min(child) * 1e3:.0f}, max {max(child) * 1e3:.0f}) per call"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, coarser linear ramp")
    args = parser.parse_args()
    synthetic_trials()
    real_search(rounds=1 if args.quick else 3, step=16 if args.quick else 4)
    harness_cost(rounds=5 if args.quick else 20)


if __name__ == "__main__":
    main()
