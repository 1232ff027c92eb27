from __future__ import annotations

import pytest

from memwatch.errors import ConfigError, UsageError
from memwatch.model.timeline import BenchmarkResult
from memwatch.reporters import available_formats, render
from memwatch.runs.compare import compare_runs
from memwatch.runs.repeat import summarise
from tests.unit.runs_factory import MIB, job_run

RUN_TEXT = """\
memwatch run: before
  command       python job.py
  exit          exited with code 0
  label         before
  started       2026-09-21 14:13:20 UTC
  duration      900.0 ms
  peak          100.0 MiB (rss, sampled) at 0.60 s
  start -> end  10.0 MiB -> 20.0 MiB
  growth        +10.0 MiB
  samples       10 every 100.0 ms (thread mode; 0 late, 0 missed)
  signals       rss

phases:
  phase       start  duration  start mem       peak    end mem     change
  load       0.00 s  350.0 ms   10.0 MiB   70.0 MiB   70.0 MiB  +60.0 MiB
  transform  0.35 s  300.0 ms   70.0 MiB  100.0 MiB  100.0 MiB  +30.0 MiB
  release    0.65 s  250.0 ms  100.0 MiB  100.0 MiB   20.0 MiB  -80.0 MiB
"""

COMPARE_TEXT = """\
memwatch compare: a.json -> b.json (changes within 5% count as unchanged)
  metric       before      after     change       %    verdict
  duration   900.0 ms   900.0 ms        0 s   +0.0%  unchanged
  peak      100.0 MiB  150.0 MiB  +50.0 MiB  +50.0%  regressed
  growth     10.0 MiB   15.0 MiB   +5.0 MiB  +50.0%  regressed
"""


def sample_benchmark() -> BenchmarkResult:
    walls, peaks = [1.0, 1.2, 1.1], [100.0 * MIB, 110.0 * MIB, 105.0 * MIB]
    return BenchmarkResult(
        command=("python", "job.py"),
        iterations=3,
        wall_times=tuple(walls),
        peaks=tuple(peaks),
        summary=summarise(walls, peaks, 1000),
        items=1000,
    )


def test_run_text_golden() -> None:
    run = job_run(command=("python", "job.py"), exit="exited", exit_code=0, label="before")
    assert render(run, "text") == RUN_TEXT


def test_comparison_text_golden_and_named_changes() -> None:
    result = compare_runs(job_run(), job_run(scale=1.5), before_label="a.json", after_label="b.json")
    text = render(result, "text")
    assert text.startswith(COMPARE_TEXT)
    assert "  transform: peak      100.0 MiB   150.0 MiB  +50.0 MiB  +50.0%  regressed" in text
    assert text.endswith(
        "regressions: peak, growth, load#1.peak, load#1.change, transform#1.peak, "
        "transform#1.change, release#1.peak\nimprovements: release#1.change\n"
    )


def test_benchmark_text() -> None:
    text = render(sample_benchmark(), "text")
    assert "  3 runs, 1,000 items per run" in text
    assert "  wall_time     1.10 s     1.10 s  100.0 ms     1.00 s     1.20 s" in text
    assert "  rate         914.1/s    909.1/s    83.4/s    833.3/s  1,000.0/s" in text
    assert "  run 2: 1.20 s, peak 110.0 MiB" in text


@pytest.mark.parametrize(
    ("exit", "code", "signal", "expected"),
    [
        ("signal", None, 9, "killed by signal 9"),
        (
            "interrupted",
            None,
            2,
            "interrupted (Ctrl-C or SIGTERM to memwatch; the command ended with signal 2)",
        ),
        ("exited", 3, None, "exited with code 3"),
    ],
)
def test_how_a_child_ended_is_said(exit: str, code: int | None, signal: int | None, expected: str) -> None:
    run = job_run(command=("python", "job.py"), exit=exit, exit_code=code, signal=signal)
    assert f"  exit          {expected}\n" in render(run, "text")


def test_downsampling_and_unavailable_signals_are_said() -> None:
    from dataclasses import replace

    run = job_run()
    run = replace(
        run, timeline=replace(run.timeline, downsampled=4, unavailable={"native_heap": "not glibc"})
    )
    text = render(run, "text")
    assert "downsampled x4" in text
    assert "native_heap unavailable (not glibc)" in text


def test_dispatch_errors() -> None:
    with pytest.raises(ConfigError, match=r"unknown report format 'yaml'; available: .*json.*text"):
        render(job_run(), "yaml")
    assert {"text", "md", "json"} <= set(available_formats())


def test_a_format_refuses_a_kind_it_cannot_show() -> None:
    from memwatch.model.timeline import MetricDelta

    class Odd(MetricDelta):
        KIND = "odd"

    odd = Odd("m", "bytes", 1.0, 1.0, 0.0, 0.0, "unchanged")
    with pytest.raises(UsageError, match="the text format cannot show a 'odd' result"):
        render(odd, "text")
    with pytest.raises(UsageError, match="the markdown format cannot show a 'odd' result"):
        render(odd, "md")


def test_benchmark_rows_keep_their_order_after_a_json_round_trip() -> None:
    import json

    from memwatch.model.base import dump_document, load_document

    doc = json.loads(json.dumps(dump_document(sample_benchmark()), sort_keys=True))
    text = render(load_document(doc, expected=BenchmarkResult), "text")
    names = ("wall_time", "peak", "rate")
    rows = [line.split()[0] for line in text.splitlines() if line.split() and line.split()[0] in names]
    assert rows == ["wall_time", "peak", "rate"]
