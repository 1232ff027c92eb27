"""Leak verdicts that do not move: the corpus run several times, and once under load.

Every case of the corpus (tests/leak_corpus) gets a verdict from ``detect_leaks`` with
its defaults, each in a fresh child process, ``--runs`` times on the machine as it is,
then once more while two CPU-bound processes (pure-Python loops, one per core of this
2-core machine) compete with it, as on a busy CI runner. The table shows each run's
verdict per case and whether all agree; the summary counts leaks found, false alarms,
roots named and verdict flips.

It also measures the cold start: ``import memwatch`` plus a first verdict on a
microsecond operation in a new process (median of ``--cold`` processes), and
``import memwatch`` alone; and the median verdict after the first (the corpus's
clean µs cases, in the same process).

    python benchmarks/bench_verdicts.py [--runs 3] [--cold 10] [--only NAME ...] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
began = time.perf_counter()
from memwatch.leaks.runner import detect_leaks
from tests.leak_corpus.cases import CASES, reset
case = next(c for c in CASES if c.name == {name!r})
report = detect_leaks(case.func, expected_exceptions=case.expected_exceptions)
root = case.root is None or any(case.root in str(p) for p in report.retention_paths)
print(json.dumps({{"verdict": report.verdict, "leaks": case.leaks, "root": root,
                   "seconds": report.duration, "calls": report.iterations + report.warmup_iterations}}))
reset()
"""

COLD = """
import time
t0 = time.perf_counter()
import memwatch
t1 = time.perf_counter()
memwatch.detect_leaks(lambda: None)
t2 = time.perf_counter()
print(t1 - t0, t2 - t0)
"""

WARM = """
import statistics, sys, time
sys.path.insert(0, {root!r})
from memwatch.leaks.runner import detect_leaks
from tests.leak_corpus import clean
detect_leaks(clean.pure)  # the first verdict pays the imports
times = []
for func in (clean.pure, clean.bounded_lru, clean.regex_cache, clean.lazy_init, clean.garbage_cycles,
             clean.weak_cache, clean.ring_buffer, clean.same_logger):
    t0 = time.perf_counter()
    detect_leaks(func)
    times.append(time.perf_counter() - t0)
print(statistics.median(times))
"""


def _hog() -> None:
    x = 0
    while True:
        x = (x * 31 + 7) % 1_000_003


def verdict(name: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT), name=name)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        return {"verdict": "error", "leaks": None, "root": False, "seconds": 0.0, "detail": out.stderr[-300:]}
    result: dict[str, object] = json.loads(lines[-1])
    return result


def corpus_run(names: list[str]) -> dict[str, dict[str, object]]:
    return {name: verdict(name) for name in names}


def cold_start(n: int) -> tuple[float, float]:
    imports, firsts = [], []
    for _ in range(n):
        out = subprocess.run(
            [sys.executable, "-c", COLD], capture_output=True, text=True, check=True, cwd="/"
        )
        a, b = (float(v) for v in out.stdout.split())
        imports.append(a)
        firsts.append(b)
    return statistics.median(imports), statistics.median(firsts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", type=int, default=10)
    parser.add_argument("--only", action="append")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.leak_corpus.cases import CASES

    names = [c.name for c in CASES if not args.only or c.name in args.only]
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} UTC, load at start {load}, Python {sys.version.split()[0]}")
    imp, first = cold_start(args.cold)
    warm = float(
        subprocess.run(
            [sys.executable, "-c", WARM.format(root=str(ROOT))],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout.strip()
    )
    print(
        f"cold start: import memwatch {imp * 1000:.0f} ms, import + first verdict {first * 1000:.0f} ms "
        f"(median of {args.cold}); median verdict after the first {warm * 1000:.0f} ms"
    )
    runs: list[tuple[str, dict[str, dict[str, object]]]] = []
    for i in range(args.runs):
        runs.append((f"run {i + 1}", corpus_run(names)))
    hogs = [multiprocessing.Process(target=_hog, daemon=True) for _ in range(2)]
    for hog in hogs:
        hog.start()
    try:
        time.sleep(1.0)
        loaded = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        runs.append((f"2 CPU hogs (load {loaded.split()[0]})", corpus_run(names)))
    finally:
        for hog in hogs:
            hog.terminate()
            hog.join()
    header = " | ".join(label for label, _ in runs)
    print(f"\n| case | expected | {header} | same |")
    print("|---|---|" + "---|" * len(runs) + "---|")
    flips = found = false_alarms = rooted = 0
    leaks = clean = 0
    for name in names:
        cells = [str(r[name]["verdict"]) for _, r in runs]
        first_run = runs[0][1][name]
        same = len(set(cells)) == 1
        flips += not same
        expected = "leak" if first_run["leaks"] else "clean"
        if first_run["leaks"]:
            leaks += 1
            found += all(r[name]["verdict"] in ("leak", "growth") for _, r in runs)
            rooted += all(bool(r[name]["root"]) for _, r in runs)
        else:
            clean += 1
            false_alarms += any(r[name]["verdict"] in ("leak", "growth") for _, r in runs)
        timing = ", ".join(f"{float(r[name]['seconds']):.2f} s" for _, r in runs)
        print(
            f"| {name} | {expected} | "
            + " | ".join(cells)
            + f" | {'yes' if same else 'NO'} |  <!-- {timing} -->"
        )
    print(
        f"\nleaks found in every run: {found}/{leaks}; false alarms: {false_alarms}/{clean}; "
        f"root named in every run: {rooted}/{leaks}; cases whose verdict changed between runs: {flips}"
    )
    if args.json:
        args.json.write_text(json.dumps(dict(runs), indent=1))


if __name__ == "__main__":
    main()
