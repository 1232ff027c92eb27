from __future__ import annotations

from memwatch.reporters import render
from memwatch.runs.compare import compare_runs
from tests.unit.runs_factory import job_run
from tests.unit.test_reporters_text import sample_benchmark

RUN_MD = """\
## memwatch run: before

- **command**: python job.py
- **exit**: exited with code 0
- **label**: before
- **started**: 2026-09-21 14:13:20 UTC
- **duration**: 900.0 ms
- **peak**: 100.0 MiB (rss, sampled) at 0.60 s
- **start -> end**: 10.0 MiB -> 20.0 MiB
- **growth**: +10.0 MiB
- **samples**: 10 every 100.0 ms (thread mode; 0 late, 0 missed)
- **signals**: rss

### Phases

| phase | start | duration | start mem | peak | end mem | change |
|:---|---:|---:|---:|---:|---:|---:|
| load | 0.00 s | 350.0 ms | 10.0 MiB | 70.0 MiB | 70.0 MiB | +60.0 MiB |
| transform | 0.35 s | 300.0 ms | 70.0 MiB | 100.0 MiB | 100.0 MiB | +30.0 MiB |
| release | 0.65 s | 250.0 ms | 100.0 MiB | 100.0 MiB | 20.0 MiB | -80.0 MiB |
"""


def test_run_markdown_golden() -> None:
    run = job_run(command=("python", "job.py"), exit="exited", exit_code=0, label="before")
    assert render(run, "md") == RUN_MD
    assert render(run, "markdown") == RUN_MD


def test_comparison_markdown() -> None:
    result = compare_runs(job_run(), job_run(scale=1.5), before_label="a.json", after_label="b.json")
    md = render(result, "md")
    assert md.startswith("## memwatch compare: `a.json` → `b.json`\n")
    assert "| peak | 100.0 MiB | 150.0 MiB | +50.0 MiB | +50.0% | regressed |" in md
    assert "| release: change | -80.0 MiB | -120.0 MiB | -40.0 MiB | -50.0% | improved |" in md
    assert md.rstrip().endswith("release#1.peak")


def test_benchmark_markdown_and_pipes_escaped() -> None:
    md = render(sample_benchmark(), "md")
    assert "| wall_time | 1.10 s | 1.10 s | 100.0 ms | 1.00 s | 1.20 s |" in md
    run = job_run(command=("sh", "-c", "a | b"), exit="exited", exit_code=0)
    assert "- **command**: sh -c a \\| b" in render(run, "md")
