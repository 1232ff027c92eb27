"""Document 002's snippets (/work/shared/seeds/002_*.txt), as written there; only the imports
change. ``run_memory_benchmark`` is bound to a small command at import (the seed's own benchmark
ran its tool's pipeline, which memwatch cannot know); the two report paths are saved runs.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

WORKLOAD = [sys.executable, "-c", "b = bytearray(30_000_000); import time; time.sleep(0.2)"]


def test_profiler_then_visualize(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from memwatch import MemoryProfiler
    from memwatch.reporters.plot import visualize_memory_timeline

    monkeypatch.chdir(tmp_path)
    # --- document 002, "MemoryProfiler" ---
    with MemoryProfiler(sample_interval_sec=0.2) as profiler:
        # Mark phases
        profiler.mark_phase_start("data_generation")

        # Generate data
        # ...

        profiler.mark_phase_end("data_generation")

        # Periodically check memory
        profiler.check_memory(force_sample=True)

        # Get memory timeline
        memory_timeline = profiler.get_memory_timeline()

        # Get phase statistics
        phase_stats = profiler.get_phase_stats()
    # --- document 002, "Memory Visualization" ---
    # Create and save memory usage visualization
    visualize_memory_timeline(memory_timeline, "Memory Usage for 500 Points", "memory_usage_plot.png")
    # --- end ---
    png = (tmp_path / "memory_usage_plot.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 10_000
    assert [s.name for s in phase_stats] == ["data_generation"]


def test_the_title_is_drawn(tmp_path: Path) -> None:
    from memwatch import MemoryProfiler
    from memwatch.reporters.plot import visualize_memory_timeline

    with MemoryProfiler(sample_interval_sec=0.01) as profiler:
        profiler.check_memory(force_sample=True)
        profiler.check_memory(force_sample=True)
    out = visualize_memory_timeline(profiler.result(), "Seed title 002", tmp_path / "plot.svg")
    assert "Seed title 002" in out.read_text()


def test_benchmark_then_compare(tmp_path: Path) -> None:
    from memwatch.model.base import write_document
    from memwatch.runs.aliases import compare_memory_reports
    from memwatch.runs.aliases import run_memory_benchmark as _bench

    run_memory_benchmark = functools.partial(_bench, WORKLOAD)
    # --- document 002, "Benchmarking" ---
    # Run benchmark with 3 iterations
    benchmark_report = run_memory_benchmark(iterations=3)
    # --- end ---
    assert benchmark_report.iterations == 3
    assert all(peak >= 30e6 for peak in benchmark_report.peaks)
    report1_path = write_document(benchmark_report.runs[0], tmp_path / "report1.json")
    report2_path = write_document(benchmark_report, tmp_path / "report2.json")
    # --- document 002, "Comparison Tools" ---
    # Compare two memory reports
    comparison_report = compare_memory_reports(report1_path, report2_path)
    # --- end ---
    assert comparison_report.before_label.endswith("report1.json")
    peak = next(d for d in comparison_report.overall if d.metric == "peak")
    assert abs(peak.after - peak.before) < 20e6  # the same 30 MB workload
