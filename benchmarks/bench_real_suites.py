"""`pytest --memwatch-leaks` on the test suites of real third-party libraries.

Each library is downloaded as a source distribution (pip download --no-binary),
built and installed from it into a private folder, and its own tests are run twice
from the unpacked sdist with the interpreter that runs this script (memwatch
installed): once plain, once with ``--memwatch-leaks`` (every test body through the
leak engine). The script prints one row per suite and, for every test the engine
did not call clean, the verdict and the first retention path, for a person to
confirm by hand.

    python benchmarks/bench_real_suites.py                # toolz, more-itertools, idna
    python benchmarks/bench_real_suites.py --only toolz

Needs the package index (pip download). Nothing is vendored in the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Suite:
    name: str  # the distribution on the package index
    tests: str  # the tests folder (or file) inside the unpacked sdist
    pytest_args: tuple[str, ...] = ()


SUITES: tuple[Suite, ...] = (
    Suite("toolz", "toolz/tests"),
    Suite("more-itertools", "tests"),
    Suite("idna", "tests"),
)


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[float, int, str]:
    began = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return time.perf_counter() - began, proc.returncode, proc.stdout + proc.stderr


def prepare(suite: Suite, work: Path) -> tuple[Path, Path]:
    """(unpacked sdist root, folder the package was installed into from that sdist)."""
    dist = work / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-d",
            str(dist),
            suite.name,
        ],
        check=True,
    )
    archive = next(
        p
        for p in dist.iterdir()
        if p.name.lower().startswith(suite.name.replace("-", "_").lower())
        or p.name.lower().startswith(suite.name.lower())
    )
    with tarfile.open(archive) as tar:
        tar.extractall(work / "src", filter="data")
    root = next((work / "src").iterdir())
    site = work / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(archive)],
        check=True,
    )
    return root, site


def verdicts(report: Path) -> list[dict[str, object]]:
    data = json.loads(report.read_text())["data"]
    out = []
    for test in data["tests"]:
        for check in test["checks"]:
            if check["check"] == "no_leaks":
                out.append(
                    {
                        "nodeid": test["nodeid"],
                        "duration": test["duration"],
                        "detail": check["detail"],
                        "passed": check["passed"],
                        "message": check["message"],
                    }
                )
    return out


def bench(suite: Suite, budget: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix=f"memwatch-real-{suite.name}-") as tmp:
        work = Path(tmp)
        root, site = prepare(suite, work)
        env = dict(os.environ, PYTHONPATH=str(site), PYTHONDONTWRITEBYTECODE="1")
        base = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            suite.tests,
        ]
        base += list(suite.pytest_args)
        # the library's own pytest configuration may not expect our options: -c /dev/null keeps it out
        base += ["-c", os.devnull, "--rootdir", str(root)]
        plain, plain_rc, plain_out = _run(base, root, env, 3600)
        report = work / "report"
        leaks_cmd = [*base, "--memwatch-leaks", "--memwatch-report", str(report)]
        leaky, leaky_rc, leaky_out = _run(leaks_cmd, root, env, 7200)
        rows = verdicts(report / "memwatch-pytest.json")
        word = lambda r: str(r["detail"]).split(",", 1)[0].split(" ", 1)[0]  # noqa: E731
        over = [r for r in rows if float(r["duration"]) > budget * 1.1]  # type: ignore[arg-type]
        return {
            "suite": suite.name,
            "version": root.name,
            "tests": len(rows),
            "leak": [r for r in rows if word(r) == "leak"],
            "failed": [r for r in rows if not r["passed"]],
            "inconclusive": [r for r in rows if word(r) == "inconclusive"],
            "over_budget": over,
            "plain_s": plain,
            "leaks_s": leaky,
            "plain_rc": plain_rc,
            "leaks_rc": leaky_rc,
            "tail": leaky_out[-600:] if not rows else "",
            "plain_tail": plain_out[-300:],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="suite name (repeatable)")
    parser.add_argument("--json", type=Path, help="write the rows here too")
    args = parser.parse_args()
    chosen = [s for s in SUITES if not args.only or s.name in args.only]
    from memwatch.config.schema import LeakConfig

    budget = LeakConfig().time_budget  # the suites carry no memwatch config: the default applies
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} load {' '.join(load)}, time budget {budget:g} s")
    print(
        "| suite | tests | leak verdicts | failed | inconclusive | over budget +10% | plain | --memwatch-leaks | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    results = []
    for suite in chosen:
        r = bench(suite, budget)
        results.append(r)
        print(
            f"| {r['version']} | {r['tests']} | {len(r['leak'])} | {len(r['failed'])} | {len(r['inconclusive'])} | "  # type: ignore[arg-type]
            f"{len(r['over_budget'])} | {r['plain_s']:.1f} s | {r['leaks_s']:.1f} s | {r['leaks_s'] / r['plain_s']:.0f}x |",  # type: ignore[operator,arg-type]
            flush=True,
        )
    for r in results:
        for key in ("leak", "failed", "inconclusive", "over_budget"):
            for row in r[key]:  # type: ignore[attr-defined]
                first = str(row["message"]).splitlines()
                print(f"- {r['suite']} {key}: {row['nodeid']}: {row['detail']} ({row['duration']:.1f} s)")
                for line in first[1:2] + [ln for ln in first if "->" in ln][:1]:
                    print(f"    {line.strip()}")
        if r["tail"]:
            print(f"- {r['suite']}: no report; pytest said: {r['tail']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
