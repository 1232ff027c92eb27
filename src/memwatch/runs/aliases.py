"""Document 002's names for the benchmark and the comparison, as thin aliases.

``run_memory_benchmark(command, iterations=3)`` is :func:`memwatch.runs.repeat.benchmark_command`
(``memwatch benchmark``); ``compare_memory_reports(path1, path2)`` reads two saved results
(``memwatch run -o``, ``memwatch benchmark -o``, ``write_document``) and is
:func:`memwatch.runs.compare.compare_runs` (``memwatch compare``). A benchmark file is
represented by its run with the median peak.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from memwatch.errors import UsageError
from memwatch.model.base import read_document
from memwatch.model.timeline import BenchmarkResult, ComparisonResult, RunResult
from memwatch.runs.compare import compare_runs
from memwatch.runs.repeat import benchmark_command

__all__ = ["compare_memory_reports", "run_memory_benchmark"]


def run_memory_benchmark(command: Sequence[str], iterations: int = 3, **options: Any) -> BenchmarkResult:
    """Run ``command`` ``iterations`` times: wall time, peak and (with ``items``) rate per run."""
    return benchmark_command(command, iterations, **options)


def _as_run(path: str | os.PathLike[str]) -> RunResult:
    doc: object = read_document(path)
    if isinstance(doc, RunResult):
        return doc
    if isinstance(doc, BenchmarkResult) and doc.runs:
        ordered = sorted(doc.runs, key=lambda run: run.peak)
        return ordered[(len(ordered) - 1) // 2]
    raise UsageError(f"{os.fspath(path)}: expected a run or a benchmark with runs, got {type(doc).__name__}")


def compare_memory_reports(
    report1_path: str | os.PathLike[str], report2_path: str | os.PathLike[str], **options: Any
) -> ComparisonResult:
    """Compare the second saved result against the first (see :func:`compare_runs` for options)."""
    return compare_runs(
        _as_run(report1_path),
        _as_run(report2_path),
        before_label=os.fspath(report1_path),
        after_label=os.fspath(report2_path),
        **options,
    )
