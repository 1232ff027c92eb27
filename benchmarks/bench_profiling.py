"""Profilers side by side: what each costs the profiled process in CPU, wall time and peak RSS.

    .venv/bin/python benchmarks/bench_profiling.py [--rounds N] [--seconds S] [--only NAMES] [--json FILE]

Workloads (each a script that times its own measured block and reads its own peak RSS,
``ru_maxrss``, at the end of it, so a tool's start-up is not counted but everything it
adds to the process is):

- ``alloc``: build 20,000 nested dicts, ``json.dumps``, ``json.loads``, repeated;
- ``numpy``: allocate, combine and reduce float arrays (numpy-heavy, few Python objects);
- ``threads``: four threads building and dropping dicts at once.

Variants: ``plain`` (python), ``memwatch-run`` (``memwatch run``, 100 Hz), ``profiler-10ms``
and ``profiler-1ms`` (in-process ``MemoryProfiler`` in thread mode, ``import memwatch``
included), ``lines`` (``memwatch lines -f workload``), ``mprof`` (``mprof run``, 10 Hz),
``memray`` (``memray run``), ``tracemalloc`` (``python -X tracemalloc=1``).

Byte-code caching is on, as after ``pip install`` (which compiles every module): the
script drops ``PYTHONDONTWRITEBYTECODE`` from the environment and compiles memwatch's
modules first, so that an import reads a ``.pyc`` file. Without it each run compiles
memwatch's modules from source inside the measured process, whose compiler adds about
1 MiB of peak RSS that no installed copy pays.

Design: in each round every variant runs once, in an order rotated from round to round,
and each variant's figures are divided by that round's plain run (paired); the table
gives the median over rounds. CPU time (``time.process_time`` of the block) is the main
figure: the machine is shared and wall time swings with other jobs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

BIN = Path(sys.executable).parent
PY = sys.executable

WORKLOAD = textwrap.dedent("""
    import json, os, resource, sys, threading, time

    def alloc(rounds):
        total = 0
        for r in range(rounds):
            rows = [{"id": i, "name": "row-%d" % i, "values": list(range(i % 20)),
                     "nested": {"a": i, "b": str(i)}} for i in range(20_000)]
            text = json.dumps(rows)
            back = json.loads(text)
            total += len(back) + len(text)
        return total

    def numpy_work(rounds):
        import numpy as np
        total = 0.0
        for r in range(rounds):
            a = np.random.default_rng(r).random((1000, 2000))
            b = np.sqrt(a) * 2.0 + a.T.copy().T
            total += float(b.sum())
            del a, b
        return total

    def threaded(rounds):
        def part(n):
            for _ in range(n):
                rows = [{"id": i, "name": str(i)} for i in range(20_000)]
                del rows
        threads = [threading.Thread(target=part, args=(rounds,)) for _ in range(4)]
        for t in threads: t.start()
        for t in threads: t.join()

    def workload(kind, rounds):
        return {"alloc": alloc, "numpy": numpy_work, "threads": threaded}[kind](rounds)

    if __name__ == "__main__":
        kind, rounds, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        profiler = None
        if kind == "numpy":
            import numpy  # the workload's own import, outside the block for every variant
        if mode.startswith("profiler"):
            import memwatch
            profiler = memwatch.MemoryProfiler(0.01 if mode == "profiler-10ms" else 0.001).start()
        cpu, wall = time.process_time(), time.perf_counter()
        workload(kind, rounds)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        if profiler is not None:
            profiler.stop()
        print("RESULT " + json.dumps({"cpu": cpu, "wall": wall, "peak": peak}), flush=True)
""")

KINDS = ("alloc", "numpy", "threads")


def variants(script: Path) -> dict[str, list[str] | None]:
    memwatch = str(BIN / "memwatch")
    mprof = shutil.which("mprof", path=str(BIN))
    memray = shutil.which("memray", path=str(BIN))
    return {
        "plain": [PY, str(script)],
        "memwatch-run": [memwatch, "run", "-q", "-o", os.devnull + ".json", "--", PY, str(script)],
        "profiler-10ms": [PY, str(script)],
        "profiler-1ms": [PY, str(script)],
        "lines": [memwatch, "lines", "-q", "-f", "workload", str(script)],
        "mprof": [mprof, "run", "-o", os.devnull, "--interval", "0.1", PY, str(script)] if mprof else None,
        "memray": [memray, "run", "-f", "-q", "-o", os.devnull + ".bin", str(script)] if memray else None,
        "tracemalloc": [PY, "-X", "tracemalloc=1", str(script)],
    }


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def compile_memwatch() -> None:
    """Write the ``.pyc`` files of memwatch's modules (as ``pip install`` does)."""
    spec = importlib.util.find_spec("memwatch")
    assert spec is not None
    assert spec.submodule_search_locations
    for folder in spec.submodule_search_locations:
        subprocess.run([PY, "-m", "compileall", "-q", folder], check=True, env=_env())


def run_once(command: list[str], kind: str, rounds: int, mode: str, folder: Path) -> dict[str, float]:
    args = [*command, kind, str(rounds), mode]
    done = subprocess.run(
        args, capture_output=True, text=True, cwd=folder, timeout=900, check=False, env=_env()
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            data: dict[str, float] = json.loads(line[7:])
            return data
    raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr[-800:]}")


def calibrate(script: Path, kind: str, seconds: float, folder: Path) -> int:
    first = run_once([PY, str(script)], kind, 2, "plain", folder)
    return max(2, round(2 * seconds / max(first["cpu"], 1e-3)))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.8, help="CPU seconds of one plain run")
    parser.add_argument("--only", default="", help="comma-separated variants (plain is always run)")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--json", default=None)
    opts = parser.parse_args()
    compile_memwatch()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        script = folder / "bench_workload.py"
        script.write_text(WORKLOAD)
        table = variants(script)
        names = [n for n in table if table[n] is not None and n != "plain"]
        if opts.only:
            wanted = set(opts.only.split(","))
            names = [n for n in names if n in wanted]
        results: dict[str, dict[str, dict[str, list[float]]]] = {}
        load = [os.getloadavg()[0]]
        for kind in opts.kinds.split(","):
            rounds = calibrate(script, kind, opts.seconds, folder)
            print(f"== {kind}: {rounds} rounds of the workload per run", flush=True)
            per: dict[str, dict[str, list[float]]] = {n: {"cpu": [], "wall": [], "peak": []} for n in names}
            for r in range(opts.rounds):
                order = names[r % len(names) :] + names[: r % len(names)]
                for name in order:
                    base = run_once(table["plain"] or [], kind, rounds, "plain", folder)
                    mode = name if name.startswith("profiler") else "plain"
                    got = run_once(table[name] or [], kind, rounds, mode, folder)
                    per[name]["cpu"].append(got["cpu"] / base["cpu"])
                    per[name]["wall"].append(got["wall"] / base["wall"])
                    per[name]["peak"].append((got["peak"] - base["peak"]) / 2**20)
                load.append(os.getloadavg()[0])
                print(f"   round {r + 1}/{opts.rounds} done (load {load[-1]:.1f})", flush=True)
            results[kind] = per
    print()
    print(f"load average during the run: {min(load):.1f} to {max(load):.1f} (2 cores)")
    print(
        "| workload | variant | CPU ratio (median, min-max) | wall ratio (median) | peak RSS delta MiB (median, min-max) |"
    )
    print("|---|---|---|---|---|")
    for kind, per in results.items():
        for name, figures in per.items():
            cpu, wall, peak = figures["cpu"], figures["wall"], figures["peak"]
            print(
                f"| {kind} | {name} | {statistics.median(cpu):.3f} ({min(cpu):.2f}-{max(cpu):.2f}) | "
                f"{statistics.median(wall):.3f} | {statistics.median(peak):+.1f} ({min(peak):+.1f} to {max(peak):+.1f}) |"
            )
    if opts.json:
        Path(opts.json).write_text(json.dumps({"load": load, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
