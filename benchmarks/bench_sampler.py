"""Benchmarks of the foundation: sampler overhead, cost of a sample, lateness, import time.

    .venv/bin/python benchmarks/bench_sampler.py [--quick] [--json FILE]

1. Overhead at 100 Hz on an allocation-heavy workload (build, serialize and parse
   dicts): the workload's wall time with a sampler over its time without, measured
   side by side: A and B alternate in pairs and the median ratio is reported.
   In-process (MemoryProfiler, thread mode, cheap signals) and as a child
   (``memwatch run``), with ``mprof run`` (memory_profiler, 10 Hz) and ``memray run``
   alongside when they are installed. Target: <= 1.02.
2. Cost of one sample of the cheap set (rss, py_blocks, native_heap), on a fresh heap
   and with a million small objects alive; "timed" is what a timed sample costs once
   costly signals are read every k-th time (the 20 µs budget). Target: <= 20 µs.
3. ``import memwatch``: time over a bare interpreter, and the heavy modules it must
   not import (pytest, sqlalchemy, matplotlib, jinja2). Target: <= 50 ms.
4. Lateness: thread mode at 10 ms and 1 ms against process mode while the main
   thread computes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PY = sys.executable

WORKLOAD = textwrap.dedent("""
    import json, sys, time

    def workload(rounds):
        total = 0
        for r in range(rounds):
            rows = [{"id": i, "name": "row-%d" % i, "values": list(range(i % 20)),
                     "nested": {"a": i, "b": str(i)}} for i in range(20_000)]
            text = json.dumps(rows)
            back = json.loads(text)
            total += len(back) + len(text)
        return total

    if __name__ == "__main__":
        rounds = int(sys.argv[1])
        start = time.perf_counter()
        workload(rounds)
        print("ELAPSED", time.perf_counter() - start, flush=True)
""")


def _workload_module(folder: Path) -> Path:
    path = folder / "bench_workload.py"
    path.write_text(WORKLOAD)
    return path


def _load_workload(path: Path) -> Callable[[int], int]:
    namespace: dict[str, object] = {"__name__": "bench_workload"}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    func = namespace["workload"]
    assert callable(func)
    return func  # type: ignore[return-value]


def _calibrate(workload: Callable[[int], int], seconds: float) -> int:
    start = time.perf_counter()
    workload(2)
    per_round = (time.perf_counter() - start) / 2
    return max(2, round(seconds / per_round))


# -- 1. overhead ---------------------------------------------------------------------
def overhead_in_process(workload: Callable[[int], int], rounds: int, pairs: int) -> dict[str, float]:
    """Wall-time and CPU-time ratios, sampled over plain, in alternating pairs.

    The CPU-time ratio (this process, all threads) is far less sensitive than wall
    time to other jobs on a shared machine: it shows what the sampler itself costs.
    """
    from memwatch.sampling.profiler import MemoryProfiler

    ratios, cpu_ratios, plain_times, thread_shares = [], [], [], []
    samples, sampler_cpu = 0, 0.0
    for i in range(pairs):
        order = ("plain", "sampled") if i % 2 == 0 else ("sampled", "plain")
        wall: dict[str, float] = {}
        cpu: dict[str, float] = {}
        for kind in order:
            start, cpu_start = time.perf_counter(), time.process_time()
            if kind == "plain":
                workload(rounds)
            else:
                with MemoryProfiler(0.01) as prof:
                    workload(rounds)
                timeline = prof.get_memory_timeline()
                samples = len(timeline)
                sampler_cpu = timeline.sampler_cpu
            wall[kind] = time.perf_counter() - start
            cpu[kind] = time.process_time() - cpu_start
        ratios.append(wall["sampled"] / wall["plain"])
        cpu_ratios.append(cpu["sampled"] / cpu["plain"])
        thread_shares.append(sampler_cpu / cpu["plain"])
        plain_times.append(wall["plain"])
    return {
        "median_ratio": statistics.median(ratios),
        "min_ratio": min(ratios),
        "max_ratio": max(ratios),
        "median_cpu_ratio": statistics.median(cpu_ratios),
        "plain_s": statistics.median(plain_times),
        "sampler_thread_cpu_share": statistics.median(thread_shares),
        "pairs": pairs,
        "samples_last": samples,
    }


def _child_elapsed(argv: list[str], cwd: Path) -> tuple[float, float]:
    """(the workload's own wall time, CPU time of the whole command and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    for line in out.stdout.splitlines():
        if line.startswith("ELAPSED"):
            return float(line.split()[1]), cpu
    raise RuntimeError(f"no ELAPSED line from {argv}: {out.stdout!r} {out.stderr!r}")


def overhead_tools(script: Path, rounds: int, pairs: int, folder: Path) -> dict[str, dict[str, float]]:
    """Each tool against the plain run, alternating; the workload times itself (wall), and
    the CPU time of the whole command (tool included) is compared too."""
    plain = [PY, str(script), str(rounds)]
    tools: dict[str, list[str]] = {
        "memwatch run (100 Hz)": [
            str(BIN / "memwatch"),
            "run",
            "-q",
            "-o",
            str(folder / "mw.json"),
            "--",
            *plain,
        ],
    }
    if (BIN / "mprof").exists():
        tools["mprof run (10 Hz)"] = [
            str(BIN / "mprof"),
            "run",
            "--output",
            str(folder / "mprof.dat"),
            str(script),
            str(rounds),
        ]
    if (BIN / "memray").exists():
        tools["memray run"] = [
            str(BIN / "memray"),
            "run",
            "-f",
            "-q",
            "-o",
            str(folder / "memray.bin"),
            str(script),
            str(rounds),
        ]
    results = {}
    for name, argv in tools.items():
        ratios, cpu_ratios = [], []
        for i in range(pairs):
            if i % 2 == 0:
                a, a_cpu = _child_elapsed(plain, folder)
                b, b_cpu = _child_elapsed(argv, folder)
            else:
                b, b_cpu = _child_elapsed(argv, folder)
                a, a_cpu = _child_elapsed(plain, folder)
            ratios.append(b / a)
            cpu_ratios.append(b_cpu / a_cpu)
        results[name] = {
            "median_ratio": statistics.median(ratios),
            "min_ratio": min(ratios),
            "max_ratio": max(ratios),
            "median_cpu_ratio": statistics.median(cpu_ratios),
            "pairs": pairs,
        }
    return results


# -- 2. cost of a sample -------------------------------------------------------------------
SAMPLE_COST = textwrap.dedent("""
    import json, sys, time
    from memwatch.probes import CHEAP, signal
    from memwatch.sampling.sampler import Sampler
    from memwatch.sampling.sources import SelfSource

    n = int(sys.argv[1])
    keep = [{"k": i} for i in range(int(sys.argv[2]))]  # small objects alive: a bigger Python heap

    def best(func):
        times = []
        for _ in range(7):
            start = time.perf_counter()
            for _ in range(n):
                func()
            times.append((time.perf_counter() - start) / n * 1e6)
        return min(times)

    out = {}
    for name in CHEAP:
        sig = signal(name)
        out[name + "_us"] = best(sig.read) if sig.available else float("nan")
    source = SelfSource(None)
    out["cheap_set_read_us"] = best(source.read)
    out["cheap_set_timed_us"] = best(lambda: source.read(False))  # costly signals decimated
    sampler = Sampler(1.0, source=source, max_samples=n * 8 + 16).start()
    out["cheap_set_recorded_us"] = best(sampler._record)
    sampler.stop()
    print(json.dumps(out))
""")


def sample_cost(n: int) -> dict[str, dict[str, float]]:
    """Per-probe and whole-set cost, best of 7 batches, in a fresh interpreter with a
    small heap and with ~1 million small dicts alive (sys.getallocatedblocks walks
    every pool of the Python heap, so its cost grows with the heap)."""
    out = {}
    for label, objects, count in (("fresh heap", 0, n), ("1M small dicts alive", 1_000_000, n // 20)):
        run = subprocess.run(
            [PY, "-c", SAMPLE_COST, str(count), str(objects)], capture_output=True, text=True, check=True
        )
        out[label] = json.loads(run.stdout)
    return out


# -- 3. import time ---------------------------------------------------------------------
def import_time(runs: int) -> dict[str, object]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    bare, loaded = [], []
    for i in range(runs):
        order = (("bare", "pass"), ("memwatch", "import memwatch"))
        for kind, code in order if i % 2 == 0 else tuple(reversed(order)):
            start = time.perf_counter()
            subprocess.run([PY, "-c", code], check=True, env=env)
            (bare if kind == "bare" else loaded).append(time.perf_counter() - start)
    probe = (
        "import sys, memwatch; heavy = ['pytest', 'sqlalchemy', 'matplotlib', 'jinja2', 'numpy', "
        "'scipy', 'pydantic', 'rich']; print([m for m in heavy if m in sys.modules])"
    )
    imported = subprocess.run([PY, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    trace = subprocess.run(
        [PY, "-X", "importtime", "-c", "import memwatch"], capture_output=True, text=True, check=True
    ).stderr
    cumulative = 0
    for line in trace.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == "memwatch":
            cumulative = int(parts[1])
    return {
        "added_ms": (statistics.median(loaded) - statistics.median(bare)) * 1e3,
        "added_min_ms": (min(loaded) - min(bare)) * 1e3,
        "bare_ms": statistics.median(bare) * 1e3,
        "importtime_cumulative_ms": cumulative / 1e3,
        "heavy_modules_imported": imported,
        "runs": runs,
    }


# -- 4. lateness ---------------------------------------------------------------------------
def lateness(seconds: float) -> dict[str, dict[str, float]]:
    from memwatch.sampling.sampler import Sampler

    def busy(until: float) -> int:
        total = 0
        while time.perf_counter() < until:
            total += sum(i * i for i in range(2000))
        return total

    out = {}
    for mode, interval in (("thread", 0.01), ("thread", 0.001), ("process", 0.01), ("process", 0.001)):
        if mode == "process" and not sys.platform.startswith("linux"):
            continue
        sampler = Sampler(interval, ["rss"], mode=mode).start()  # type: ignore[arg-type]
        time.sleep(0.1)  # let a helper process start
        start = time.perf_counter()
        busy(start + seconds)
        elapsed = time.perf_counter() - start
        tl = sampler.stop()
        t = tl.t[(tl.t >= 0.1)]
        expected = elapsed / interval
        out[f"{mode} {interval * 1e3:g} ms"] = {
            "samples_per_expected": len(t) / expected,
            "late": tl.late_samples,
            "missed": tl.missed_samples,
            "max_lateness_ms": tl.max_lateness * 1e3,
            "samples": len(tl),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller workload and fewer pairs (~30 s)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    seconds, pairs, tool_pairs = (0.5, 4, 2) if args.quick else (2.0, 10, 5)
    results: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d"),
        "quick": args.quick,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    with tempfile.TemporaryDirectory(prefix="memwatch-bench-") as tmp:
        folder = Path(tmp)
        script = _workload_module(folder)
        workload = _load_workload(script)
        rounds = _calibrate(workload, seconds)
        print(f"workload: {rounds} rounds of build/serialize/parse (~{seconds:g} s)")
        inproc = overhead_in_process(workload, rounds, pairs)
        results["overhead_in_process"] = inproc
        print(
            f"1. MemoryProfiler 100 Hz, in-process: median wall ratio {inproc['median_ratio']:.4f} "
            f"(min {inproc['min_ratio']:.4f}, max {inproc['max_ratio']:.4f}), median CPU ratio "
            f"{inproc['median_cpu_ratio']:.4f}; {pairs} pairs, plain {inproc['plain_s']:.2f} s"
            "  target <= 1.02"
        )
        print(
            f"   the sampling thread's own CPU time: {inproc['sampler_thread_cpu_share'] * 100:.2f}% "
            f"of the workload's CPU time ({inproc['samples_last']} samples)"
        )
        tools = overhead_tools(script, rounds, tool_pairs, folder)
        results["overhead_tools"] = tools
        for name, figures in tools.items():
            print(
                f"   {name:<22} median wall ratio {figures['median_ratio']:.4f} "
                f"(min {figures['min_ratio']:.4f}, max {figures['max_ratio']:.4f}), median CPU ratio "
                f"{figures['median_cpu_ratio']:.4f}; {tool_pairs} pairs"
            )
    cost = sample_cost(20_000 if args.quick else 100_000)
    results["sample_cost"] = cost
    for label, figures in cost.items():
        print(
            f"2. one sample ({label}), µs: "
            + ", ".join(f"{k[:-3]} {v:.2f}" for k, v in figures.items())
            + "  target <= 20 µs"
        )
    imp = import_time(10 if args.quick else 30)
    results["import"] = imp
    print(
        f"3. import memwatch adds {imp['added_ms']:.1f} ms (median; {imp['added_min_ms']:.1f} ms min) "
        f"over a bare interpreter "
        f"({imp['bare_ms']:.1f} ms); -X importtime cumulative {imp['importtime_cumulative_ms']:.1f} ms; "
        f"heavy modules imported: {imp['heavy_modules_imported']}  target <= 50 ms, []"
    )
    late = lateness(0.5 if args.quick else 2.0)
    results["lateness"] = late
    print("4. lateness while the main thread computes:")
    for name, figures in late.items():
        print(
            f"   {name:<16} samples/expected {figures['samples_per_expected']:.2f}, "
            f"late {figures['late']:.0f}, missed {figures['missed']:.0f}, "
            f"max lateness {figures['max_lateness_ms']:.2f} ms"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    failed = []
    if inproc["median_ratio"] > 1.02:
        failed.append("overhead")
    if cost["fresh heap"]["cheap_set_read_us"] > 20:
        failed.append("sample cost")
    if float(imp["added_ms"]) > 50 or imp["heavy_modules_imported"] != "[]":  # type: ignore[arg-type]
        failed.append("import")
    print("targets: " + ("all met" if not failed else "MISSED: " + ", ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
