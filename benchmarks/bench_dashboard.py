"""The dashboard at scale: generate a big history, build the site, time it, load its pages.

    python benchmarks/bench_dashboard.py generate --db /tmp/big.db --runs 10000 --tests 1000
    python benchmarks/bench_dashboard.py build --db /tmp/big.db -o /tmp/big-site
    python benchmarks/bench_dashboard.py load /tmp/big-site        # headless Chromium

``generate`` writes runs through the store's schema but bulk-loads the results with
the database driver (COPY on PostgreSQL), in primary-key order with the run-id index
built afterwards: that is data generation, not what is measured. Each series is a
level with 1 % noise and 3 samples per run; one test in 50 gets a ×3 step at a
random run, one in 50 a slow drift; every run from 60 % of the history on is in a
second environment (Python 3.12), and every 25th run is on a feature branch.
Baselines are set from run 100.

``build`` runs ``memwatch dashboard`` in this process and prints wall time, CPU time,
peak RSS (``ru_maxrss``) and the machine's load average before and after.
``load`` opens the overview, the regressions page, the first runs page and the
largest test page in headless Chromium and prints each page's load time (navigation
start to the ``load`` event), with its size.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

T0 = 1_700_000_000.0
ENV_A = {
    "implementation": "cpython",
    "python_minor": "3.11",
    "python": "3.11.9",
    "system": "linux",
    "machine": "x86_64",
    "cpu": "bench",
    "cpu_count": 2,
}
ENV_B = {**ENV_A, "python_minor": "3.12", "python": "3.12.4"}


def _levels(tests: int, runs: int, seed: int) -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for t in range(tests):
        level = float(rng.uniform(1, 200)) * 2**20
        series = np.full(runs, level)
        if t % 50 == 7:  # a planted step
            at = int(rng.integers(runs // 10, runs - 20))
            series[at:] *= 3.0
        elif t % 50 == 23:  # a slow drift: +10 % over the history
            series *= 1.0 + 0.10 * np.arange(runs) / runs
        out.append((f"tests/test_mod_{t // 20:03d}.py::test_case_{t:04d}", series))
    return out


def generate(url: str, runs: int, tests: int, seed: int) -> None:
    from memwatch.store import open_store
    from memwatch.store.codec import dumps
    from memwatch.store.env import environment_key

    started = time.perf_counter()
    with open_store(url) as store:
        if store.runs(limit=1):
            sys.exit(f"{url} already holds runs: generate into an empty database")
        backend = store.backend
        engine = store._engine
    switch = int(runs * 0.6)
    run_rows = []
    for k in range(runs):
        env = ENV_B if k >= switch else ENV_A
        run_rows.append(
            (
                k + 1,
                T0 + k * 3600.0,
                "pytest",
                "",
                f"{k + 1:08x}" + "ab" * 16,
                "feature/x" if (k + 1) % 25 == 0 else "main",
                "bench",
                environment_key(env),
                dumps(env),
                dumps({"duration": 60.0 + k % 17, "tests": tests}),
                tests,
            )
        )
    rng = np.random.default_rng(seed + 1)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cols = "(id, created_at, kind, label, git_sha, git_branch, host, env_key, env, meta, result_count)"
        if backend == "postgresql":
            with cur.copy(f"COPY memwatch_runs {cols} FROM STDIN") as copy:
                for row in run_rows:
                    copy.write_row(row)
            cur.execute("SELECT setval(pg_get_serial_sequence('memwatch_runs', 'id'), %s)", (runs,))
            cur.execute("DROP INDEX IF EXISTS ix_memwatch_results_run")
        else:
            cur.execute("PRAGMA synchronous = OFF")
            cur.execute("BEGIN")
            cur.executemany(f"INSERT INTO memwatch_runs {cols} VALUES ({','.join('?' * 11)})", run_rows)
            cur.execute("DROP INDEX IF EXISTS ix_memwatch_results_run")
        for t, (test_id, levels) in enumerate(_levels(tests, runs, seed)):
            samples = levels[:, None] * (1.0 + rng.normal(0.0, 0.01, (runs, 3)))
            medians = np.median(samples, axis=1)
            rows = [
                (
                    test_id,
                    "peak",
                    k + 1,
                    "bytes",
                    float(medians[k]),
                    "[" + ",".join(map(repr, samples[k].tolist())) + "]",
                )
                for k in range(runs)
            ]
            if backend == "postgresql":
                buf = io.StringIO()
                for r in rows:
                    buf.write(f"{r[0]}\t{r[1]}\t{r[2]}\t{r[3]}\t{r[4]!r}\t{r[5]}\n")
                with cur.copy(
                    "COPY memwatch_results (test_id, metric, run_id, unit, value, samples) FROM STDIN"
                ) as copy:
                    copy.write(buf.getvalue())
            else:
                cur.executemany(
                    "INSERT INTO memwatch_results (test_id, metric, run_id, unit, value, samples) VALUES (?,?,?,?,?,?)",
                    rows,
                )
            if t % 100 == 99:
                print(f"  {t + 1} tests, {time.perf_counter() - started:.0f} s", flush=True)
        cur.execute("CREATE INDEX ix_memwatch_results_run ON memwatch_results (run_id)")
        if backend == "postgresql":
            raw.commit()
            cur.execute("ANALYZE")
        else:
            cur.execute("COMMIT")
            cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    with open_store(url) as store:
        store.set_baselines_from_run(100, source="bench")
    print(f"generated {runs} runs x {tests} tests in {time.perf_counter() - started:.0f} s")


def build(url: str, out: str) -> None:
    from memwatch.cli import main

    load_before = os.getloadavg()
    wall = time.perf_counter()
    cpu = time.process_time()
    code = main(["dashboard", "--db", url, "-o", out])
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file()) / 2**20
    print(
        f"exit {code}: wall {wall:.1f} s, cpu {cpu:.1f} s, peak RSS {peak:.0f} MiB, site {size:.0f} MiB; "
        f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after"
    )


def load(site: str, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    root = Path(site).resolve()
    tests = sorted((root / "tests").glob("*.html"), key=lambda p: p.stat().st_size)
    targets = [
        root / "index.html",
        root / "regressions.html",
        root / "runs.html",
        root / "environments.html",
        tests[-1],
    ]
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
    ]
    print(f"load average {os.getloadavg()[0]:.2f}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=flags, chromium_sandbox=False)
        try:
            for path in targets:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                errors: list[str] = []
                page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
                page.on(
                    "request",
                    lambda r, e=errors: e.append(r.url) if not r.url.startswith("file://") else None,
                )
                page.goto(path.as_uri(), wait_until="load")
                took = page.evaluate(
                    "() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; }"
                )
                print(
                    f"{path.relative_to(root)}: {took:.0f} ms, {path.stat().st_size / 1024:.0f} KiB, problems {errors}"
                )
                page.close()
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--db", required=True)
    g.add_argument("--runs", type=int, default=10_000)
    g.add_argument("--tests", type=int, default=1_000)
    g.add_argument("--seed", type=int, default=0)
    b = sub.add_parser("build")
    b.add_argument("--db", required=True)
    b.add_argument("-o", "--output", required=True)
    ld = sub.add_parser("load")
    ld.add_argument("site")
    ld.add_argument("--chromium", default=os.environ.get("MEMWATCH_TEST_CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args()
    if args.what == "generate":
        generate(args.db, args.runs, args.tests, args.seed)
    elif args.what == "build":
        build(args.db, args.output)
    else:
        load(args.site, args.chromium)


if __name__ == "__main__":
    main()
