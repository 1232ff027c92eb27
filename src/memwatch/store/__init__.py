"""The history database (``memwatch.store``): runs, results, baselines.

Public API (import from here)::

    store = open_store()                      # $MEMWATCH_DB or .memwatch/history.db
    run_id = store.record_run("pytest", [ResultRow("tests/x.py::t", "peak", "bytes", (1e6, 1.1e6))])
    store.trend("tests/x.py::t", "peak")      # TrendPoint list, oldest first
    store.set_baselines_from_run(run_id)
    store.baseline("tests/x.py::t", "peak")   # Baseline in this environment, or None
    report = check_run(store, run_id, gates=["peak:10%"])  # RegressionReport; moves improved baselines
    report.raise_for_regressions()
"""

from memwatch.model.history import Baseline, HistoryResult, ResultRow, RunInfo, TrendPoint
from memwatch.store.db import Store, open_store
from memwatch.store.engine import configured_url
from memwatch.store.env import environment_differences, environment_fingerprint, environment_key
from memwatch.store.gates import apply_baseline_updates, check_run
from memwatch.store.history import build_history

__all__ = [
    "Baseline",
    "HistoryResult",
    "ResultRow",
    "RunInfo",
    "Store",
    "TrendPoint",
    "apply_baseline_updates",
    "build_history",
    "check_run",
    "configured_url",
    "environment_differences",
    "environment_fingerprint",
    "environment_key",
    "open_store",
]
