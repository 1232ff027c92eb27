"""MemoryProfiler and memory_usage against real allocations."""

from __future__ import annotations

import gc
import time

import pytest

from memwatch import MemoryProfiler, memory_usage

pytestmark = pytest.mark.integration
MIB = 2**20


def test_phases_measure_a_150_mib_load_and_its_release() -> None:
    gc.collect()
    with MemoryProfiler(sample_interval_sec=0.01) as p:
        p.mark_phase_start("load")
        data = b"\x01" * (150 * MIB)
        p.mark_phase_end("load")
        p.mark_phase_start("release")
        del data
        p.mark_phase_end("release")
        p.check_memory(force_sample=True)
    load, release = p.get_phase_stats()
    assert 130 * MIB < load.delta_memory < 200 * MIB
    assert load.peak_memory - load.start_memory > 130 * MIB
    assert -200 * MIB < release.delta_memory < -130 * MIB
    result = p.result()
    assert result.peak - result.start_memory > 130 * MIB
    assert abs(result.growth) < 40 * MIB
    assert [ph.name for ph in p.get_memory_timeline().phases] == ["load", "release"]


def test_repeated_and_nested_phases_each_get_their_own_figures() -> None:
    gc.collect()
    kept = []
    with MemoryProfiler(0.01) as p, p.phase("all"):
        for _ in range(2):
            with p.phase("step"):
                kept.append(b"\x01" * (60 * MIB))
    stats = p.get_phase_stats()
    assert [(s.name, s.depth) for s in stats] == [("all", 0), ("step", 1), ("step", 1)]
    assert all(50 * MIB < s.delta_memory < 90 * MIB for s in stats[1:])
    assert 100 * MIB < stats[0].delta_memory < 170 * MIB
    del kept


def test_memory_usage_sees_a_function_hold_200_mib() -> None:
    gc.collect()

    def hold(nbytes: int) -> int:
        block = b"\x01" * nbytes
        time.sleep(0.15)
        return len(block)

    samples, value = memory_usage(hold, 200 * MIB, interval=0.01, retval=True)
    assert value == 200 * MIB
    assert max(samples) - samples[0] > 180  # MiB
    assert len(samples) >= 5
