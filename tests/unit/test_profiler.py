from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from memwatch.errors import ConfigError, DataError, UsageError
from memwatch.model.base import read_document, write_document
from memwatch.model.timeline import RunResult
from memwatch.sampling.profiler import (
    MemoryProfiler,
    build_run_result,
    memory_usage,
    phase_stats,
    primary_signal,
)
from tests.unit.runs_factory import MIB, job_run, make_run, make_timeline


def test_phase_stats_of_a_known_series() -> None:
    run = job_run()
    load, transform, release = run.phase_stats
    # samples every 0.1 s: 10 20 40 70 | 70 90 100 | 80 20 20
    assert (load.name, load.samples) == ("load", 4)
    assert load.start_memory == 10 * MIB
    assert load.end_memory == 70 * MIB
    assert load.peak_memory == 70 * MIB
    assert load.delta_memory == 60 * MIB
    assert transform.peak_memory == 100 * MIB
    assert transform.peak_over_start == 30 * MIB
    assert transform.duration == pytest.approx(0.3)
    # release began at 0.65 s: its entry memory is the sample before (0.6 s: 100 MiB)
    assert release.start_memory == 100 * MIB
    assert release.peak_memory == 100 * MIB
    assert release.delta_memory == -80 * MIB
    assert all(s.signal == "rss" for s in run.phase_stats)


def test_open_phase_ends_at_the_last_sample() -> None:
    stats = phase_stats(make_timeline([1, 2, 3], phases=[("open", 0.1, None, 0)]))
    assert stats[0].end == pytest.approx(0.2)
    assert stats[0].delta_memory == 1 * MIB


def test_run_figures() -> None:
    run = job_run()
    assert run.peak == 100 * MIB
    assert run.start_memory == 10 * MIB
    assert run.end_memory == 20 * MIB
    assert run.growth == 10 * MIB
    assert run.duration == pytest.approx(0.9)
    assert run.peak_source == "sampled"
    assert run.primary_signal == "rss"


def test_a_larger_external_peak_decides_and_is_named() -> None:
    tl = make_timeline([1, 5, 2])
    assert build_run_result(tl, extra_peak=4 * MIB, extra_peak_source="kernel").peak == 5 * MIB
    run = build_run_result(tl, extra_peak=9 * MIB, extra_peak_source="kernel")
    assert (run.peak, run.peak_source) == (9 * MIB, "kernel")


def test_primary_signal_choice() -> None:
    tl = make_timeline([1, 2])
    assert primary_signal(tl) == "rss"
    with pytest.raises(KeyError, match="no signal 'vms'"):
        primary_signal(tl, "vms")


def test_nan_readings_are_skipped_for_start_and_end() -> None:
    run = make_run([float("nan"), 3, 4, float("nan")])
    assert run.start_memory == 3 * MIB
    assert run.end_memory == 4 * MIB


def test_run_result_json_round_trip(tmp_path: Path) -> None:
    run = job_run(label="before", command=("python", "job.py"), exit="exited", exit_code=0)
    path = write_document(run, tmp_path / "run.json")
    back = read_document(path, expected=RunResult)
    assert back == run
    assert back.phase_stats == run.phase_stats
    assert np.array_equal(back.timeline.t, run.timeline.t)


def test_reading_an_other_version_or_corrupt_file_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text('{"memwatch_schema": 99, "kind": "run", "data": {}}')
    with pytest.raises(DataError, match="schema version 99 is not supported"):
        read_document(path, expected=RunResult)
    path.write_text('{"memwatch_schema": 1, "kind": "run", "data": {"peak": 1}}')
    with pytest.raises(DataError, match="missing field"):
        read_document(path, expected=RunResult)


def test_profiler_misuse() -> None:
    profiler = MemoryProfiler(0.01)
    with pytest.raises(UsageError, match="has not started"):
        profiler.get_memory_timeline()
    with pytest.raises(UsageError, match="has not started"):
        profiler.mark_phase_start("x")
    with profiler, pytest.raises(UsageError, match="phase 'never' is not open"):
        profiler.mark_phase_end("never")
    with pytest.raises(UsageError, match="already started"):
        profiler.start()
    with pytest.raises(ConfigError, match="invalid sampling interval"):
        MemoryProfiler(0)
    with pytest.raises(UsageError, match="primary signal 'vms' is not sampled"):
        MemoryProfiler(0.01, signals=["rss"], primary="vms")


def test_profiler_phases_and_check_memory() -> None:
    with MemoryProfiler(0.01, signals=["rss", "py_blocks"]) as p:
        with p.phase("outer"):
            p.mark_phase_start("inner")
            reading = p.check_memory(force_sample=True)
            p.mark_phase_end()
        n_before = len(p.get_memory_timeline())
        p.check_memory()  # a reading only: nothing recorded
        assert len(p.get_memory_timeline()) <= n_before + 2  # (the thread may add one)
    assert set(reading) == {"rss", "py_blocks"}
    stats = p.get_phase_stats()
    assert [(s.name, s.depth) for s in stats] == [("outer", 0), ("inner", 1)]
    assert all(s.samples >= 1 for s in stats)
    assert p.peak_memory >= reading["rss"]
    assert math.isfinite(p.memory_change)
    assert p.result().exit == "in-process"


def test_memory_usage_forms() -> None:
    def work(n: int, *, fill: int = 0) -> int:
        return len(bytearray([fill]) * n)

    samples = memory_usage(work, 1000, interval=0.01, fill=1)
    assert isinstance(samples, list)
    assert all(s > 1 for s in samples)  # MiB of a live interpreter
    usage, value = memory_usage((work, (10,), {"fill": 2}), interval=0.01, retval=True)
    assert value == 10
    assert memory_usage(work, 5, interval=0.01, max_usage=True) >= min(usage)


def test_memory_usage_errors() -> None:
    def boom() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        memory_usage(boom, interval=0.01)
    with pytest.raises(UsageError, match="not callable"):
        memory_usage(42, interval=0.01)  # type: ignore[arg-type]


def test_the_primary_signal_is_sampled_first() -> None:
    with MemoryProfiler(0.01, signals=["py_blocks", "rss"], primary="rss") as p:
        pass
    assert list(p.get_memory_timeline().signals) == ["rss", "py_blocks"]
    assert p.result().primary_signal == "rss"


def test_sampling_imports_nothing_heavy() -> None:
    """While a MemoryProfiler samples, the process has loaded only the standard library's light
    part: every module imported here is memory the profiler adds to what it measures (issue 16)."""
    import json
    import subprocess
    import sys

    code = (
        "import sys, time; before = set(sys.modules)\n"
        "import memwatch\n"
        "p = memwatch.MemoryProfiler(0.005).start(); time.sleep(0.05); p.check_memory(force_sample=True)\n"
        "p.mark_phase_start('a'); p.mark_phase_end('a')\n"
        "import json; print(json.dumps(sorted(set(sys.modules) - before)))\n"
        "p.stop()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded = set(json.loads(out.stdout.splitlines()[0]))
    assert "memwatch.sampling.sampler" in loaded  # the probe saw the sampling path
    heavy = {
        "numpy",
        "psutil",
        "subprocess",
        "dataclasses",
        "inspect",
        "ctypes.util",
        "tracemalloc",
        "socket",
        "platform",
        "memwatch.model.timeline",
        "memwatch.units",
        "memwatch.probes.process",
    }
    assert not heavy & loaded, sorted(heavy & loaded)
