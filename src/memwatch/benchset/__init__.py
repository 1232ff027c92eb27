"""The memory benchmark set: allocation rate, pool rate, memory bandwidth, GC pauses,
cache hit rate and cache latency, each against a configurable threshold.

::

    from memwatch.benchset import run_memory_benchmarks
    report = run_memory_benchmarks(quick=True)
    print(report.summary()); report.raise_for_failures()

The CLI is ``memwatch bench [--json out.json] [--config memwatch.yaml] [--quick]``.
"""

from memwatch.benchset.history import TEST_ID, memory_benchmarks_check, record_benchmarks
from memwatch.benchset.runner import (
    BENCHMARKS,
    BenchSpec,
    machine_info,
    record_wanted,
    resolve_thresholds,
    run_memory_benchmarks,
)
from memwatch.model.bench import BenchMachine, BenchMetric, BenchReport

__all__ = [
    "BENCHMARKS",
    "TEST_ID",
    "BenchMachine",
    "BenchMetric",
    "BenchReport",
    "BenchSpec",
    "machine_info",
    "memory_benchmarks_check",
    "record_benchmarks",
    "record_wanted",
    "resolve_thresholds",
    "run_memory_benchmarks",
]
