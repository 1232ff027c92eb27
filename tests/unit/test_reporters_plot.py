from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from memwatch.errors import UsageError
from memwatch.reporters.plot import write_plot
from memwatch.runs.compare import compare_runs
from tests.unit.runs_factory import job_run, make_run
from tests.unit.test_reporters_text import sample_benchmark


def test_png_of_a_run(tmp_path: Path) -> None:
    out = write_plot(job_run(command=("python", "job.py")), tmp_path / "run.png")
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 20_000  # a real picture, not an empty canvas
    assert [p.name for p in tmp_path.iterdir()] == ["run.png"]  # no temp file left


def test_svg_names_phases_and_marks_the_peak(tmp_path: Path) -> None:
    out = write_plot(job_run(), tmp_path / "run.svg")
    svg = out.read_text()
    assert svg.lstrip().startswith("<?xml")
    for text in (
        "load",
        "transform",
        "release",
        "peak 100.0 MiB at 0.60 s",
        "memory (MiB)",
        "change (MiB/s)",
        "time (s)",
    ):
        assert text in svg, text


def test_overlay_of_several_runs(tmp_path: Path) -> None:
    runs = [job_run(label="before"), job_run(scale=1.5, label="after")]
    svg = write_plot(runs, tmp_path / "both.svg").read_text()
    assert "rss: before" in svg
    assert "rss: after" in svg
    assert "memwatch: 2 runs" in svg


def test_bad_targets_and_results(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"use a \.png or \.svg file name"):
        write_plot(job_run(), tmp_path / "run.jpg")
    with pytest.raises(UsageError, match=r"folder .* does not exist"):
        write_plot(job_run(), tmp_path / "missing" / "run.png")
    with pytest.raises(UsageError, match="cannot plot a 'comparison' result"):
        write_plot(compare_runs(job_run(), job_run()), tmp_path / "c.png")
    with pytest.raises(UsageError, match="holds no runs"):
        write_plot(sample_benchmark(), tmp_path / "b.png")
    with pytest.raises(UsageError, match="nothing to plot"):
        write_plot(make_run([]), tmp_path / "empty.png")


def test_import_memwatch_does_not_import_matplotlib() -> None:
    code = "import sys, memwatch, memwatch.reporters; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_plot_file_honours_the_umask(tmp_path: Path) -> None:
    import os

    old = os.umask(0o022)
    try:
        out = write_plot(job_run(), tmp_path / "run.png")
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["run.png"]
