"""Generated histories with known answers for the dashboard tests (not a test module).

:func:`planted` records 60 runs in which exactly one step should count:

- ``test_triple`` peak: 30 MiB, ×3 from run 46 on (the planted step up);
- ``test_drift`` peak: 50 MiB creeping up 10 % over all runs (no step);
- ``test_noise`` peak: 40 MiB with 2 % noise (no step);
- ``test_switch`` peak: 20 MiB, 26 MiB from run 31 on, where every run moves from
  environment A to environment B (an environment switch, not a regression);
- ``test_gone`` is recorded in the first 50 runs only (missing), ``test_fresh`` in the
  last run only (new), and ``EVIL`` (markup, quotes, unicode) is a plain series.

Each run has 5 samples per result with about 1 % noise; baselines are set from run 10.
"""

from __future__ import annotations

import numpy as np

from memwatch.model.history import ResultRow
from memwatch.store import open_store

__all__ = ["ENV_A", "ENV_B", "EVIL", "RUNS", "STEP_RUN", "SWITCH_RUN", "T0", "MiB", "planted"]

MiB = 2.0**20
T0 = 1_795_200_000.0
RUNS = 60
STEP_RUN = 46  # first run (id) after the planted step
SWITCH_RUN = 31  # first run in environment B
EVIL = "tests/test_evil.py::test_x[<script>alert('x')</script>-\"q\"-ünï-😀]"
ENV_A = {
    "implementation": "cpython",
    "python_minor": "3.11",
    "python": "3.11.9",
    "system": "linux",
    "machine": "x86_64",
}
ENV_B = {
    "implementation": "cpython",
    "python_minor": "3.12",
    "python": "3.12.4",
    "system": "linux",
    "machine": "x86_64",
}


def planted(url: str, *, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)

    def noisy(level: float, rel: float = 0.01) -> tuple[float, ...]:
        return tuple(level * (1.0 + rng.normal(0.0, rel, 5)))

    with open_store(url) as store:
        for k in range(RUNS):
            run = k + 1
            rows = [
                ResultRow(
                    "tests/test_step.py::test_triple",
                    "peak",
                    "bytes",
                    noisy(30 * MiB * (3 if run >= STEP_RUN else 1)),
                ),
                ResultRow("tests/test_step.py::test_triple", "growth", "bytes", (0.0, 0.0, 4096.0, 0.0, 0.0)),
                ResultRow(
                    "tests/test_drift.py::test_slow", "peak", "bytes", noisy(50 * MiB * (1 + 0.10 * k / RUNS))
                ),
                ResultRow("tests/test_noise.py::test_noise", "peak", "bytes", noisy(40 * MiB, 0.02)),
                ResultRow(
                    "tests/test_env.py::test_switch",
                    "peak",
                    "bytes",
                    noisy((26 if run >= SWITCH_RUN else 20) * MiB),
                ),
                ResultRow(EVIL, "peak", "bytes", noisy(10 * MiB)),
            ]
            if run <= 50:
                rows.append(ResultRow("tests/test_gone.py::test_gone", "peak", "bytes", noisy(5 * MiB)))
            if run == RUNS:
                rows.append(ResultRow("tests/test_fresh.py::test_fresh", "peak", "bytes", noisy(7 * MiB)))
            store.record_run(
                "pytest",
                rows,
                env=ENV_B if run >= SWITCH_RUN else ENV_A,
                git_sha=f"{run:04d}" + "c0ffee" * 6,
                git_branch="main" if run % 10 else "feature/x",
                created_at=T0 + k * 3600,
                meta={"duration": 12.5 + k},
            )
            if run == 10:
                store.set_baselines_from_run(run)
