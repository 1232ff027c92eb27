"""Benchmark the pytest plugin: overhead of ``--memwatch`` and the time of a ``no_leaks`` verdict.

1. A generated suite of 1,000 small tests is run as ``pytest`` (plain: the plugin is
   installed but inactive), ``pytest --memwatch`` and, when pytest-memray is installed,
   ``pytest --memray``; the runs alternate (plain, memwatch, memray, plain, ...) and the
   median wall time and CPU time (user + system, of the child process: steadier on a
   shared machine) of each are reported with their ratios to plain (target for
   memwatch: <= 1.05), with the median of the per-round ratios (runs seconds apart share
   the machine's load) and the ratio of the fastest runs. Both cover the whole
   ``python -m pytest`` process, start-up included, as a user sees it. ``-p no:memwatch``
   runs too: the cost of the plugin merely being installed.
2. The same suite run by ``pytest.main`` several times in one process (imports excluded):
   the CPU the plugin's hooks add per test.
3. A ``@pytest.mark.no_leaks`` test whose body takes about a microsecond: the time of
   the verdict (the measured body, the engine's whole loop) read from the run's JSON
   report, median of several runs (target <= 0.5 s).
4. With ``--real-suite``: a real suite, 570 of this repository's own unit tests (pure
   Python: units, statistics, config, models, reporters), run plain and with
   ``--memwatch``, alternating: CPU time and the pytest process's peak RSS (``ru_maxrss``
   of the child, from ``os.wait4``), medians and the per-round ratios.
5. With ``--instructions`` (needs valgrind): the user-space instructions of one whole run
   of each variant, counted by callgrind. The count does not move with the load of a
   shared machine (the same run gives the same count to 0.01 %), so it shows what the
   plugin adds where wall times are noisy; system calls are not counted.

Usage: ``.venv/bin/python benchmarks/bench_plugin.py [--quick] [--rounds N] [--real-suite] [--instructions]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_TESTS = 1000
FILES = 10
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


def make_suite(folder: Path, tests: int = N_TESTS, files: int = FILES) -> None:
    """``tests`` near-empty tests in ``files`` modules, and a pytest.ini (other benchmarks use it too)."""
    per_file = tests // files
    for f in range(files):
        lines = [
            f"def test_{f}_{i}():\n    data = [{i}] * 10\n    assert len(data) == 10\n"
            for i in range(per_file)
        ]
        (folder / f"test_suite_{f}.py").write_text("\n".join(lines))
    (folder / "pytest.ini").write_text(INI)


def _env() -> dict[str, str]:
    # Byte-code caching on, as on a developer's machine: without it every run would
    # recompile (and assertion-rewrite) each plugin module, which swamps what is measured.
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run(folder: Path, *extra: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one ``python -m pytest`` run."""
    elapsed, cpu, _ = run_measured(folder, *extra)
    return elapsed, cpu


def run_measured(folder: Path, *extra: str) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MiB) of one ``python -m pytest`` run (the
    child's own rusage, from ``os.wait4``)."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]
    began = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, cwd=folder, stdout=out, stderr=subprocess.STDOUT, env=_env())
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - began
        if proc.returncode != 0:
            out.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out.read()[-3000:].decode()}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def overhead(rounds: int, memray_rounds: int) -> dict[str, float]:
    variants: dict[str, tuple[str, ...]] = {
        "plain": (),
        "memwatch": ("--memwatch",),
        "disabled": ("-p", "no:memwatch"),
    }
    if importlib.util.find_spec("pytest_memray") is not None:
        variants["memray"] = ("--memray",)
    wall: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    peak: dict[str, list[float]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory(prefix="mw-bench-plugin-") as tmp:
        folder = Path(tmp)
        make_suite(folder)
        for args in variants.values():  # warm the file system cache and the .pyc files
            run(folder, *args)
        for index in range(rounds):
            order = list(variants.items())
            if index % 2:
                order.reverse()  # neither variant always runs right after the other
            for name, args in order:
                if name == "memray" and index >= memray_rounds:
                    continue  # ~10x slower: fewer rounds
                elapsed, used, rss = run_measured(folder, *args)
                wall[name].append(elapsed)
                cpu[name].append(used)
                peak[name].append(rss)
    med_wall = {name: statistics.median(values) for name, values in wall.items()}
    med_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    # the ratio within each round (runs seconds apart share the machine's load), then its median
    paired = {
        name: statistics.median(w / p for w, p in zip(values, wall["plain"], strict=False))
        for name, values in wall.items()
    }
    print(
        f"suite of {N_TESTS} small tests, {rounds} alternating rounds ({memray_rounds} for memray); "
        "median per run of python -m pytest:"
    )
    print(
        f"  {'variant':<9} {'wall':>8} {'ratio':>6}   {'CPU':>8} {'ratio':>6}   {'paired':>6} {'best':>6}"
        "   wall range      peak RSS"
    )
    for name in variants:
        print(
            f"  {name:<9} {med_wall[name]:7.2f}s {med_wall[name] / med_wall['plain']:6.3f}   "
            f"{med_cpu[name]:7.2f}s {med_cpu[name] / med_cpu['plain']:6.3f}   "
            f"{paired[name]:6.3f} {min(wall[name]) / min(wall['plain']):6.3f}   "
            f"{min(wall[name]):.2f}-{max(wall[name]):.2f} s   {statistics.median(peak[name]):6.1f} MiB"
        )
    print("  (ratio: of the medians; paired: median of the per-round wall ratios; best: of the fastest runs)")
    extra = (med_cpu["memwatch"] - med_cpu["plain"]) / N_TESTS
    print(
        f"  memwatch CPU overhead per test: {extra * 1e6:,.0f} µs "
        "(plain: the plugin installed, no option; disabled: -p no:memwatch)"
    )
    return med_wall


INPROCESS = """
import contextlib, io, statistics, sys, time
import pytest
times = {"plain": [], "memwatch": []}
for index in range(int(sys.argv[1]) + 1):
    for name, args in (("plain", []), ("memwatch", ["--memwatch"])):
        began = time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):
            pytest.main(["-q", "-p", "no:cacheprovider", *args])
        if index:  # the first round imports everything
            times[name].append(time.process_time() - began)
print(statistics.median(times["plain"]), statistics.median(times["memwatch"]))
"""


def per_test_cost(rounds: int) -> float:
    """CPU per test of the plugin's hooks alone: pytest.main in one process, imports excluded."""
    with tempfile.TemporaryDirectory(prefix="mw-bench-inproc-") as tmp:
        folder = Path(tmp)
        make_suite(folder)
        proc = subprocess.run(
            [sys.executable, "-c", INPROCESS, str(rounds)],
            cwd=folder,
            env=_env(),
            capture_output=True,
            text=True,
            check=True,
        )
    plain, memwatch = (float(v) for v in proc.stdout.split())
    cost = (memwatch - plain) / N_TESTS
    print(
        f"in one process (imports excluded), {rounds} alternating rounds: plain {plain:.3f} s, "
        f"--memwatch {memwatch:.3f} s of CPU per {N_TESTS} tests: {cost * 1e6:.0f} µs per test "
        f"(ratio {memwatch / plain:.3f})"
    )
    return cost


REAL_SUITE = (
    "tests/unit/test_units.py",
    "tests/unit/test_kendall.py",
    "tests/unit/test_summary.py",
    "tests/unit/test_stats_compare.py",
    "tests/unit/test_changepoint.py",
    "tests/unit/test_trend.py",
    "tests/unit/test_config.py",
    "tests/unit/test_options.py",
    "tests/unit/test_model_base.py",
    "tests/unit/test_reporters_text.py",
    "tests/unit/test_reporters_json.py",
    "tests/unit/test_leak_model.py",
)


def real_suite(rounds: int) -> None:
    """Plain against ``--memwatch`` on 570 of this repository's unit tests: CPU and peak RSS."""
    root = Path(__file__).resolve().parents[1]
    variants = {"plain": (), "memwatch": ("--memwatch",)}
    figures: dict[str, list[tuple[float, float, float]]] = {name: [] for name in variants}
    common = ("-p", "no:randomly", *REAL_SUITE)
    run_measured(root, *common)  # .pyc files
    for index in range(rounds):
        order = list(variants.items())
        if index % 2:
            order.reverse()
        for name, args in order:
            figures[name].append(run_measured(root, *args, *common))
    plain, measured = figures["plain"], figures["memwatch"]
    cpu_ratio = statistics.median(m[1] / p[1] for m, p in zip(measured, plain, strict=True))
    rss_delta = [m[2] - p[2] for m, p in zip(measured, plain, strict=True)]
    print(
        f"real suite ({len(REAL_SUITE)} unit-test files of this repository, 570 tests), {rounds} alternating rounds:"
    )
    for name, values in figures.items():
        print(
            f"  {name:<9} CPU {statistics.median(v[1] for v in values):6.2f} s   "
            f"peak RSS {statistics.median(v[2] for v in values):6.1f} MiB"
            f" ({min(v[2] for v in values):.1f}-{max(v[2] for v in values):.1f})"
        )
    print(
        f"  --memwatch / plain: CPU {cpu_ratio:.3f} (median of per-round ratios), peak RSS "
        f"{statistics.median(rss_delta):+.2f} MiB (per round {min(rss_delta):+.2f} to {max(rss_delta):+.2f})"
    )


def instructions() -> None:
    """User-space instructions of one run per variant (callgrind), on a 1,000-test and a 1-test suite."""
    if shutil.which("valgrind") is None:
        print("instructions: valgrind is not installed; skipped")
        return
    env = {**_env(), "PYTHONHASHSEED": "0"}
    for n_tests in (N_TESTS, 1):
        counts: dict[str, float] = {}
        with tempfile.TemporaryDirectory(prefix="mw-bench-cg-") as tmp:
            folder = Path(tmp)
            if n_tests == 1:
                (folder / "test_one.py").write_text("def test_one():\n    assert 1\n")
                (folder / "pytest.ini").write_text(INI)
            else:
                make_suite(folder)
            variants = (("plain", ()), ("memwatch", ("--memwatch",)), ("disabled", ("-p", "no:memwatch")))
            for name, args in variants:
                cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
                subprocess.run(cmd, cwd=folder, env=env, capture_output=True, check=True)  # .pyc files
                grind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd]
                proc = subprocess.run(grind, cwd=folder, env=env, capture_output=True, text=True, check=True)
                found = re.search(r"Collected : (\d+)", proc.stderr)
                if found is None:
                    raise SystemExit(f"callgrind printed no count:\n{proc.stderr[-2000:]}")
                counts[name] = int(found.group(1)) / 1e6
        plain = counts["plain"]
        print(
            f"instructions (callgrind, user space), suite of {n_tests} test{'s' if n_tests > 1 else ''}: "
            + ", ".join(f"{name} {value:,.1f} M ({value / plain:.3f})" for name, value in counts.items())
        )


LEAK_TEST = """
import pytest

@pytest.mark.no_leaks
def test_microsecond_body():
    data = {"a": 1}
    data["b"] = 2
"""


def verdict_time(rounds: int) -> float:
    durations = []
    with tempfile.TemporaryDirectory(prefix="mw-bench-leak-") as tmp:
        folder = Path(tmp)
        (folder / "test_leak.py").write_text(LEAK_TEST)
        (folder / "pytest.ini").write_text(INI)
        for _ in range(rounds):
            run(folder, "--memwatch-report", "out", "-p", "no:memray")
            doc = json.loads((folder / "out" / "memwatch-pytest.json").read_text())
            record = doc["data"]["tests"][0]
            assert record["checks"][0]["passed"], record
            durations.append(record["duration"])
    median = statistics.median(durations)
    print(
        f"no_leaks verdict on a microsecond-scale body: median {median:.3f} s over {rounds} runs "
        f"(range {min(durations):.3f}-{max(durations):.3f} s; target <= 0.5 s)"
    )
    return median


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (3, memray 1)")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 15)")
    parser.add_argument("--memray-rounds", type=int, default=None, help="rounds with --memray (default 3)")
    parser.add_argument(
        "--real-suite",
        action="store_true",
        help="also run 570 of this repository's unit tests plain and measured",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each variant's instructions with callgrind (valgrind; ~3 minutes)",
    )
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 15)
    overhead(rounds, args.memray_rounds or (1 if args.quick else 3))
    per_test_cost(3 if args.quick else 9)
    verdict_time(3 if args.quick else 7)
    if args.real_suite:
        real_suite(rounds)
    if args.instructions:
        instructions()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
