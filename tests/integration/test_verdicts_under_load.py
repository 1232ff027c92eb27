"""A verdict must not change with machine load.

The leak engine decides from counts (blocks, bytes) per call, not from time, but the number
of calls it reaches inside its time budget does depend on time. Here a CPU-bound process
shares one core with the engine (both pinned to the same CPU, so the test halves the
engine's CPU without slowing the other xdist worker), and corpus cases must get the
verdicts they get on a quiet machine: every leak found, every trap clean, including the
millisecond-scale traps whose calls the load stretches the most.
The same comparison over the whole corpus, quiet and under two hogs, is
``benchmarks/bench_verdicts.py`` (BENCHMARKS.md).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from memwatch.leaks.runner import detect_leaks
from tests.leak_corpus.cases import CASES, Case, reset

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs sched_setaffinity (Linux)"),
]

UNDER_LOAD = (
    "module_dict",
    "small_object",
    "every_tenth",
    "closures",
    "pure",
    "bounded_lru",
    "sawtooth",
    "garbage_cycles",
    "slow_plateau",
    "slow_sawtooth",
    "slow_warmup",
)


def _hog(cpu: int, running: Any) -> None:
    os.sched_setaffinity(0, {cpu})
    running.set()
    x = 0
    while True:
        x = (x * 31 + 7) % 1_000_003


@pytest.fixture(scope="module")
def one_shared_core() -> Iterator[int]:
    """Pin this process to one of its CPUs and start a CPU-bound process on the same one."""
    before = os.sched_getaffinity(0)
    cpu = max(before)
    spawn = multiprocessing.get_context("spawn")
    running = spawn.Event()
    hog = spawn.Process(target=_hog, args=(cpu, running), daemon=True)
    hog.start()
    assert running.wait(30), "the CPU hog did not start"
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, before)
        hog.terminate()
        hog.join(5)


def _cpu_share(cpu: int) -> float:
    """The share of one CPU this process gets while the hog runs (about 0.5)."""
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    while time.perf_counter() - wall0 < 0.3:
        pass
    return (time.thread_time() - cpu0) / (time.perf_counter() - wall0)


@pytest.mark.untraced  # coverage's tracer keeps objects per thread started: measure untraced
@pytest.mark.parametrize("case", [c for c in CASES if c.name in UNDER_LOAD], ids=lambda c: c.name)
def test_same_verdict_with_a_cpu_hog_on_the_core(case: Case, one_shared_core: int) -> None:
    assert _cpu_share(one_shared_core) < 0.8, "the hog does not compete for this core"
    gc.collect()
    try:
        report = detect_leaks(case.func, expected_exceptions=case.expected_exceptions)
    finally:
        reset()
        gc.collect()
    if case.leaks:
        assert report.leak_detected, report.explain()
        assert report.kind == case.kind, report.explain()
    else:
        assert report.verdict == "clean", report.explain()
