"""Leak detection over the corpus: recall, false alarms, attribution hits, time per verdict.

Side by side in one run, each verdict in a fresh child process (so one case's
lazy initialisation or cache is not already warm for the next tool):

- ``memwatch``: ``detect_leaks(op)`` with its defaults (adaptive, attribution on);
- ``memray``: the rule of pytest-memray's ``limit_leaks("1 KB")`` marker, applied the
  way pytest-memray applies it: the operation called 100 times under
  ``memray.Tracker(native_traces=True, trace_python_allocators=True)``; a leak when
  any allocation location leaked at least 1 KiB (pytest-memray's "KB" is 1024);
- ``dash_r``: CPython's ``regrtest -R 3:3`` rule on allocated blocks: 3 warm-up
  repetitions then 3 measured ones (100 calls each, caches cleared and a full
  collection before each reading); a leak when every measured delta is >= 1 block.
  Used as the anchor when memray is not importable.

Times are medians over ``--repeat`` runs in the same child (the first run gives the
verdict). ``python benchmarks/bench_leaks.py [--quick] [--repeat N] [--json FILE]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _caller(func: Callable[..., Any], expected: tuple[type[BaseException], ...]) -> Callable[[int], None]:
    """A function that calls the operation n times (awaiting coroutines)."""
    if inspect.iscoroutinefunction(func):

        async def many(n: int) -> None:
            for _ in range(n):
                try:
                    await func()
                except expected:
                    pass

        return lambda n: asyncio.run(many(n))

    def run(n: int) -> None:
        for _ in range(n):
            try:
                func()
            except expected:
                pass

    return run


def memwatch_verdict(case: Any) -> dict[str, Any]:
    from memwatch.leaks.runner import detect_leaks

    report = detect_leaks(case.func, expected_exceptions=case.expected_exceptions)
    hit = case.root is not None and any(case.root in str(p) for p in report.retention_paths)
    return {
        "leak": report.leak_detected,
        "kind": report.kind,
        "hit": hit,
        "decide": report.duration - report.attribution_seconds,
        "paths": [str(p) for p in report.retention_paths][:2],
    }


def memray_verdict(case: Any) -> dict[str, Any]:
    import memray

    run = _caller(case.func, case.expected_exceptions)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "leaks.bin")
        with memray.Tracker(
            path,
            native_traces=True,
            trace_python_allocators=True,
            file_format=memray.FileFormat.AGGREGATED_ALLOCATIONS,
        ):
            run(100)
        reader = memray.FileReader(path)
        leaked = [r for r in reader.get_leaked_allocation_records(merge_threads=True) if r.size >= 1024]
        reader.close()
    return {"leak": bool(leaked), "kind": "", "hit": False}


def dash_r_verdict(case: Any) -> dict[str, Any]:
    from memwatch.leaks.caches import reset_caches

    run = _caller(case.func, case.expected_exceptions)
    deltas = []
    previous = 0
    for rep in range(6):
        run(100)
        reset_caches()
        gc.collect()
        blocks = sys.getallocatedblocks()
        if rep >= 3:
            deltas.append(blocks - previous)
        previous = blocks
    return {"leak": all(d >= 1 for d in deltas), "kind": "", "hit": False}


TOOLS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "memwatch": memwatch_verdict,
    "memray": memray_verdict,
    "dash_r": dash_r_verdict,
}


def child(tool: str, name: str, repeat: int) -> None:
    from tests.leak_corpus.cases import CASES, reset

    case = next(c for c in CASES if c.name == name)
    # Imports happen before the clock starts: time per verdict, not per interpreter start.
    if tool == "memray":
        import memray  # noqa: F401
    else:
        import memwatch.leaks.caches
        import memwatch.leaks.runner  # noqa: F401
    times: list[float] = []
    first: dict[str, Any] = {}
    decides: list[float] = []
    for i in range(repeat):
        gc.collect()
        began = time.perf_counter()
        result = TOOLS[tool](case)
        times.append(time.perf_counter() - began)
        decides.append(result.get("decide", times[-1]))
        if i == 0:
            first = result
        reset()
    first.update(time=statistics.median(times), decide=statistics.median(decides))
    print(json.dumps(first))


def _available(tool: str) -> bool:
    if tool != "memray":
        return True
    try:
        import memray  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one timing run per verdict")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs per verdict")
    parser.add_argument("--json", help="write the raw results to this file")
    parser.add_argument("--child", nargs=2, metavar=("TOOL", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    if args.child:
        child(args.child[0], args.child[1], repeat)
        return 0
    from tests.leak_corpus.cases import CASES

    tools = [t for t in TOOLS if _available(t)]
    results: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in tools}
    for index, case in enumerate(CASES):
        order = tools if index % 2 == 0 else tools[::-1]  # alternate who goes first
        for tool in order:
            proc = subprocess.run(
                [sys.executable, __file__, "--child", tool, case.name, "--repeat", str(repeat)],
                capture_output=True,
                text=True,
                cwd=ROOT,
                check=False,
            )
            if proc.returncode != 0:
                results[tool][case.name] = {"leak": None, "error": proc.stderr.strip()[-300:]}
            else:
                results[tool][case.name] = json.loads(proc.stdout.strip().splitlines()[-1])
        row = "  ".join(f"{t}={_mark(results[t][case.name], case.leaks)}" for t in tools)
        print(f"{case.name:24} {'leak ' if case.leaks else 'clean'}  {row}", flush=True)
    print()
    _summary(CASES, tools, results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, sort_keys=True))
    return 0


def _mark(result: dict[str, Any], expected: bool) -> str:
    if result.get("leak") is None:
        return "ERROR"
    ok = "ok " if result["leak"] == expected else "BAD"
    return f"{ok}({result.get('time', 0) * 1000:5.0f} ms)"


def _summary(cases: Any, tools: list[str], results: dict[str, dict[str, dict[str, Any]]]) -> None:
    leaks = [c for c in cases if c.leaks]
    clean = [c for c in cases if not c.leaks]
    rooted = [c for c in leaks if c.root]
    print(
        f"{'tool':10} {'recall':>8} {'false alarms':>13} {'roots named':>12} {'native':>7} "
        f"{'median ms/verdict':>18} {'clean':>7} {'leaky':>7} {'decide':>7}"
    )
    for tool in tools:
        res = results[tool]
        found = sum(bool(res[c.name].get("leak")) for c in leaks)
        alarms = sum(bool(res[c.name].get("leak")) for c in clean)
        hits = sum(bool(res[c.name].get("hit")) for c in rooted)
        native = [c for c in leaks if c.kind == "native"]
        native_ok = sum(bool(res[c.name].get("leak")) for c in native)
        all_t = [res[c.name].get("time", float("nan")) * 1000 for c in cases]
        clean_t = [res[c.name].get("time", float("nan")) * 1000 for c in clean]
        leak_t = [res[c.name].get("time", float("nan")) * 1000 for c in leaks]
        dec_t = [res[c.name].get("decide", float("nan")) * 1000 for c in cases]
        roots = f"{hits}/{len(rooted)}" if tool == "memwatch" else "-"
        print(
            f"{tool:10} {found:>5}/{len(leaks):<2} {alarms:>10}/{len(clean):<2} {roots:>12} "
            f"{native_ok:>5}/{len(native)} {statistics.median(all_t):>18.0f} "
            f"{statistics.median(clean_t):>7.0f} {statistics.median(leak_t):>7.0f} "
            f"{statistics.median(dec_t):>7.0f}"
        )


if __name__ == "__main__":
    sys.exit(main())
