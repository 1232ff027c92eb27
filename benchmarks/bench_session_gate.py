"""Benchmark the session-wide gate: ``pytest --memwatch-db`` with and without ``--memwatch-fail-on``.

A generated suite of 200 small tests (a list and an assert each) is run as whole
``python -m pytest -q`` processes, three variants alternating (the order reversed every
other round):

- ``plain``: ``pytest -q`` (the plugin installed, inactive),
- ``db``: ``pytest -q --memwatch-db A.db`` (every test recorded into the history database),
- ``gate``: ``pytest -q --memwatch-db B.db --memwatch-fail-on peak:10% --memwatch-fail-on growth:1MiB``
  (recorded, every test compared with its baseline, the allocator settled around each body).

Both databases get their baselines from one unmeasured run first. Reported: the median wall
time of each variant and the ratios of the medians (``gate / db`` is what the gate adds).

Usage: ``.venv/bin/python benchmarks/bench_session_gate.py [--rounds N]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_plugin  # the same generated suite (run as a script: benchmarks/ is on sys.path)

N_TESTS = 200
FILES = 4
GATES = ["--memwatch-fail-on", "peak:10%", "--memwatch-fail-on", "growth:1MiB"]


def make_suite(folder: Path) -> None:
    bench_plugin.make_suite(folder, N_TESTS, FILES)


def run(folder: Path, args: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMWATCH")}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"pytest {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    opts = parser.parse_args()
    variants = {
        "plain": [],
        "db": ["--memwatch-db", "A.db"],
        "gate": ["--memwatch-db", "B.db", *GATES],
    }
    with tempfile.TemporaryDirectory(prefix="memwatch-gate-bench-") as tmp:
        folder = Path(tmp)
        make_suite(folder)
        run(folder, ["--memwatch-db", "A.db", "--memwatch-update-baselines"])  # baselines, not measured
        run(folder, ["--memwatch-db", "B.db", *GATES])
        times: dict[str, list[float]] = {name: [] for name in variants}
        names = list(variants)
        for i in range(opts.rounds):
            for name in names if i % 2 == 0 else reversed(names):
                times[name].append(run(folder, variants[name]))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"{N_TESTS} tests, {opts.rounds} rounds, load {os.getloadavg()[0]:.2f}")
    for name, value in medians.items():
        spread = f"{min(times[name]):.2f}-{max(times[name]):.2f} s"
        print(f"{name:>6}: median {value:.3f} s (range {spread})")
    print(f"db / plain: {medians['db'] / medians['plain']:.3f}")
    print(f"gate / db: {medians['gate'] / medians['db']:.3f}")
    print(f"gate / plain: {medians['gate'] / medians['plain']:.3f}")


if __name__ == "__main__":
    main()
