"""Benchmarks of the foundation: sampler overhead, cost of a sample, lateness, import time.

    .venv/bin/python benchmarks/bench_sampler.py [--quick] [--json FILE]

1. Overhead at 100 Hz on an allocation-heavy workload (build, serialize and parse
   dicts): the workload's wall time with a sampler over its time without, measured
   side by side: A and B alternate in pairs and the median ratio is reported.
   In-process (MemoryProfiler, thread mode, cheap signals) and as a child
   (``memwatch run``), with ``mprof run`` (memory_profiler, 10 Hz) and ``memray run``
   alongside when they are installed. Target: <= 1.02.
2. Cost of one sample of the cheap set (rss, py_blocks, native_heap). Target: <= 20 µs.
3. ``import memwatch``: time over a bare interpreter, and the heavy modules it must
   not import (pytest, sqlalchemy, matplotlib, jinja2). Target: <= 50 ms.
4. Lateness: thread mode at 10 ms and 1 ms against process mode while the main
   thread computes.
"""

from __future__ import annotations

import argparse
import json
import os
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

WORKLOAD = textwrap.dedent('''
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
''')


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
    from memwatch.profiler import MemoryProfiler

    ratios, plain_times = [], []
    for i in range(pairs):
        order = ("plain", "sampled") if i % 2 == 0 else ("sampled", "plain")
        times: dict[str, float] = {}
        samples = 0
        for kind in order:
            start = time.perf_counter()
            if kind == "plain":
                workload(rounds)
            else:
                with MemoryProfiler(0.01) as prof:
                    workload(rounds)
                samples = len(prof.get_memory_timeline())
            times[kind] = time.perf_counter() - start
        ratios.append(times["sampled"] / times["plain"])
        plain_times.append(times["plain"])
    return {"median_ratio": statistics.median(ratios), "min_ratio": min(ratios), "max_ratio": max(ratios),
            "plain_s": statistics.median(plain_times), "pairs": pairs, "samples_last": samples}


def _child_elapsed(argv: list[str], cwd: Path) -> float:
    out = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, check=True)
    for line in out.stdout.splitlines():
        if line.startswith("ELAPSED"):
            return float(line.split()[1])
    raise RuntimeError(f"no ELAPSED line from {argv}: {out.stdout!r} {out.stderr!r}")


def overhead_tools(script: Path, rounds: int, pairs: int, folder: Path) -> dict[str, dict[str, float]]:
    """Each tool against the plain run, alternating; the workload times itself."""
    plain = [PY, str(script), str(rounds)]
    tools: dict[str, list[str]] = {
        "memwatch run (100 Hz)": [str(BIN / "memwatch"), "run", "-q", "-o", str(folder / "mw.json"),
                                  "--", *plain],
    }
    if (BIN / "mprof").exists():
        tools["mprof run (10 Hz)"] = [str(BIN / "mprof"), "run", "--output", str(folder / "mprof.dat"),
                                      str(script), str(rounds)]
    if (BIN / "memray").exists():
        tools["memray run"] = [str(BIN / "memray"), "run", "-f", "-q", "-o", str(folder / "memray.bin"),
                               str(script), str(rounds)]
    results = {}
    for name, argv in tools.items():
        ratios = []
        for i in range(pairs):
            if i % 2 == 0:
                a = _child_elapsed(plain, folder)
                b = _child_elapsed(argv, folder)
            else:
                b = _child_elapsed(argv, folder)
                a = _child_elapsed(plain, folder)
            ratios.append(b / a)
        results[name] = {"median_ratio": statistics.median(ratios), "min_ratio": min(ratios),
                         "max_ratio": max(ratios), "pairs": pairs}
    return results


# -- 2. cost of a sample -------------------------------------------------------------------
def sample_cost(n: int) -> dict[str, float]:
    from memwatch.probes import CHEAP, signal
    from memwatch.sampler import Sampler, SelfSource

    out: dict[str, float] = {}
    for name in CHEAP:
        sig = signal(name)
        if not sig.available:
            out[name + "_us"] = float("nan")
            continue
        read = sig.read
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(n):
                read()
            best = min(best, (time.perf_counter() - start) / n)
        out[name + "_us"] = best * 1e6
    source = SelfSource(None)
    sampler = Sampler(1.0, source=source, max_samples=n * 6 + 16)
    sampler.start()
    for label, func in (("cheap_set_read_us", source.read), ("cheap_set_recorded_us", sampler._record)):
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(n):
                func()
            best = min(best, (time.perf_counter() - start) / n)
        out[label] = best * 1e6
    sampler.stop()
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
    probe = ("import sys, memwatch; heavy = ['pytest', 'sqlalchemy', 'matplotlib', 'jinja2', 'numpy', "
             "'scipy', 'pydantic', 'rich']; print([m for m in heavy if m in sys.modules])")
    imported = subprocess.run([PY, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    trace = subprocess.run([PY, "-X", "importtime", "-c", "import memwatch"], capture_output=True,
                           text=True, check=True).stderr
    cumulative = 0
    for line in trace.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == "memwatch":
            cumulative = int(parts[1])
    return {"added_ms": (statistics.median(loaded) - statistics.median(bare)) * 1e3,
            "bare_ms": statistics.median(bare) * 1e3, "importtime_cumulative_ms": cumulative / 1e3,
            "heavy_modules_imported": imported, "runs": runs}


# -- 4. lateness ---------------------------------------------------------------------------
def lateness(seconds: float) -> dict[str, dict[str, float]]:
    from memwatch.sampler import Sampler

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
            "samples_per_expected": len(t) / expected, "late": tl.late_samples, "missed": tl.missed_samples,
            "max_lateness_ms": tl.max_lateness * 1e3, "samples": len(tl)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller workload and fewer pairs (~30 s)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    seconds, pairs, tool_pairs = (0.5, 4, 2) if args.quick else (2.0, 10, 5)
    results: dict[str, object] = {"date": time.strftime("%Y-%m-%d"), "quick": args.quick,
                                  "python": sys.version.split()[0], "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="memwatch-bench-") as tmp:
        folder = Path(tmp)
        script = _workload_module(folder)
        workload = _load_workload(script)
        rounds = _calibrate(workload, seconds)
        print(f"workload: {rounds} rounds of build/serialize/parse (~{seconds:g} s)")
        inproc = overhead_in_process(workload, rounds, pairs)
        results["overhead_in_process"] = inproc
        print(f"1. MemoryProfiler 100 Hz, in-process: median ratio {inproc['median_ratio']:.4f} "
              f"(min {inproc['min_ratio']:.4f}, max {inproc['max_ratio']:.4f}, {pairs} pairs, "
              f"plain {inproc['plain_s']:.2f} s)  target <= 1.02")
        tools = overhead_tools(script, rounds, tool_pairs, folder)
        results["overhead_tools"] = tools
        for name, figures in tools.items():
            print(f"   {name:<24} median ratio {figures['median_ratio']:.4f} "
                  f"(min {figures['min_ratio']:.4f}, max {figures['max_ratio']:.4f}, {tool_pairs} pairs)")
    cost = sample_cost(20_000 if args.quick else 100_000)
    results["sample_cost"] = cost
    print("2. one sample: " + ", ".join(f"{k} {v:.2f}" for k, v in cost.items()) + "  target <= 20 µs")
    imp = import_time(10 if args.quick else 30)
    results["import"] = imp
    print(f"3. import memwatch adds {imp['added_ms']:.1f} ms over a bare interpreter "
          f"({imp['bare_ms']:.1f} ms); -X importtime cumulative {imp['importtime_cumulative_ms']:.1f} ms; "
          f"heavy modules imported: {imp['heavy_modules_imported']}  target <= 50 ms, []")
    late = lateness(0.5 if args.quick else 2.0)
    results["lateness"] = late
    print("4. lateness while the main thread computes:")
    for name, figures in late.items():
        print(f"   {name:<16} samples/expected {figures['samples_per_expected']:.2f}, "
              f"late {figures['late']:.0f}, missed {figures['missed']:.0f}, "
              f"max lateness {figures['max_lateness_ms']:.2f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    failed = []
    if inproc["median_ratio"] > 1.02:
        failed.append("overhead")
    if cost["cheap_set_read_us"] > 20:
        failed.append("sample cost")
    if float(imp["added_ms"]) > 50 or imp["heavy_modules_imported"] != "[]":  # type: ignore[arg-type]
        failed.append("import")
    print("targets: " + ("all met" if not failed else "MISSED: " + ", ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
