"""memwatch run / plot / report / compare / benchmark as a user types them, and every bad input."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from memwatch.cli import main

pytestmark = pytest.mark.integration
MIB = 2**20
PY = sys.executable
JOB = str(Path(__file__).resolve().parents[2] / "examples" / "job.py")
SMALL = "import time; b = b'x' * (40 * 2**20); time.sleep(0.05)"


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="module")
def job_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "job.json"
    assert main(["run", "-q", "-o", str(out), "--", PY, JOB]) == 0
    return out


def test_run_the_example_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "job.json"
    assert main(["run", "-o", str(out), "--interval", "5ms", "--", PY, JOB]) == 0
    err = capsys.readouterr().err
    assert "exited with code 0" in err
    for name in ("load", "transform", "aggregate", "release"):
        assert f"phase {name}:" in err
    assert f"saved {out}" in err
    doc = json.loads(out.read_text())
    assert doc["kind"] == "run"
    assert doc["data"]["timeline"]["interval"] == 0.005
    stats = {s["name"]: s for s in doc["data"]["phase_stats"]}
    assert stats["load"]["delta_memory"] > 40 * MIB  # ~60 MB of records


def test_failed_child_exits_1_and_still_saves(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "crash.json"
    assert main(["run", "-o", str(out), "--", PY, "-c", "import sys; sys.exit(4)"]) == 1
    assert "exited with code 4" in capsys.readouterr().err
    assert json.loads(out.read_text())["data"]["exit_code"] == 4


def test_report_formats(job_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(job_file)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("memwatch run\n")
    assert "phases:" in text
    assert main(["report", str(job_file), "--format", "md"]) == 0
    assert "| phase | start |" in capsys.readouterr().out
    assert main(["report", str(job_file), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(job_file.read_text())


def test_report_to_a_file(job_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    assert main(["report", str(job_file), "-f", "md", "-o", str(out)]) == 0
    assert out.read_text().startswith("## memwatch run")


def test_plot_png_and_svg(job_file: Path, tmp_path: Path) -> None:
    png, svg = tmp_path / "job.png", tmp_path / "job.svg"
    assert main(["plot", str(job_file), "-o", str(png)]) == 0
    assert png.read_bytes().startswith(b"\x89PNG")
    assert main(["plot", str(job_file), str(job_file), "-o", str(svg)]) == 0
    assert "memwatch: 2 runs" in svg.read_text()


def test_compare_and_fail_on_regression(
    job_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = tmp_path / "small.json"
    assert main(["run", "-q", "-o", str(small), "--", PY, "-c", SMALL]) == 0
    assert main(["compare", str(small), str(job_file)]) == 0
    out = capsys.readouterr().out
    assert "peak" in out
    assert "regressed" in out
    assert main(["compare", str(small), str(job_file), "--fail-on-regression"]) == 1
    assert "memwatch: regressed: " in capsys.readouterr().err
    assert main(["compare", str(job_file), str(job_file), "--fail-on-regression", "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "comparison"


def test_benchmark_three_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    code = main(["benchmark", "--iterations", "3", "--items", "1000", "-o", str(out), "--", PY, "-c", SMALL])
    assert code == 0
    captured = capsys.readouterr()
    assert captured.err.count("memwatch: run ") == 3
    assert "rate" in captured.out
    doc = json.loads(out.read_text())
    assert doc["kind"] == "benchmark"
    assert len(doc["data"]["wall_times"]) == 3
    assert all(p > 40 * MIB for p in doc["data"]["peaks"])


def test_benchmark_with_a_failing_command_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["benchmark", "-n", "2", "-q", "--", PY, "-c", "raise SystemExit(2)"]) == 1
    assert "failed runs: 1, 2" in capsys.readouterr().out


# -- bad input: one line, exit 2 ---------------------------------------------------------
def _corrupt(tmp: Path) -> str:
    path = tmp / "corrupt.json"
    path.write_text('{"memwatch_schema": 1, "kind": "run", "data": {')
    return str(path)


def _other_version(tmp: Path) -> str:
    path = tmp / "v99.json"
    path.write_text('{"memwatch_schema": 99, "kind": "run", "data": {}}')
    return str(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (lambda t: ["report", str(t / "missing.json")], "missing.json: no such file"),
        (lambda t: ["report", _corrupt(t)], "corrupt JSON at line 1"),
        (lambda t: ["report", _other_version(t)], "schema version 99 is not supported"),
        (lambda t: ["plot", str(t / "missing.json")], "missing.json: no such file"),
        (lambda t: ["compare", _corrupt(t), _corrupt(t)], "corrupt JSON"),
        (lambda t: ["run", "--signals", "bogus", "--", PY, "-c", "pass"], "unknown probe 'bogus'"),
        (
            lambda t: ["run", "--signals", "py_blocks", "--", PY, "-c", "pass"],
            "probe 'py_blocks' cannot be read from another process",
        ),
        (lambda t: ["run", "--", "memwatch-no-such-command"], "command not found: memwatch-no-such-command"),
        (lambda t: ["run"], "no command to run"),
        (lambda t: ["run", "-o", str(t / "no" / "dir.json"), "--", PY, "-c", "pass"], "does not exist"),
        (lambda t: ["run", "-o", str(t), "--", PY, "-c", "pass"], "it is a directory"),
        (lambda t: ["run", "--interval", "0", "--", PY, "-c", "pass"], "must be a positive number"),
        (lambda t: ["run", "--interval", "-5ms", "--", PY, "-c", "pass"], "invalid duration '-5ms'"),
        (lambda t: ["run", "--interval", "soon", "--", PY, "-c", "pass"], "invalid duration 'soon'"),
        (lambda t: ["benchmark", "--iterations", "0", "--", PY, "-c", "pass"], "must be at least 1"),
        (lambda t: ["benchmark", "--interval", "0", "--", PY, "-c", "pass"], "must be a positive number"),
        (lambda t: ["benchmark", "--format", "yaml", "--", PY, "-c", "pass"], "unknown report format 'yaml'"),
        (lambda t: ["compare", "a.json", "b.json", "--tolerance", "lots"], "--tolerance 'lots'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: object, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = args(tmp_path)  # type: ignore[operator]
    assert main(argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith("memwatch: error: ")
    assert message in line


def test_bad_report_format_and_plot_extension(
    job_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(job_file), "--format", "yaml"]) == 2
    assert "unknown report format 'yaml'" in one_error_line(capsys.readouterr().err)
    assert main(["plot", str(job_file), "-o", str(tmp_path / "x.jpg")]) == 2
    assert "use a .png or .svg file name" in one_error_line(capsys.readouterr().err)


def test_a_result_of_another_kind_is_refused(
    job_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cmp = tmp_path / "cmp.json"
    assert main(["compare", str(job_file), str(job_file), "-f", "json", "-o", str(cmp)]) == 0
    capsys.readouterr()
    assert main(["compare", str(cmp), str(job_file)]) == 2
    assert "(comparison) with " in one_error_line(capsys.readouterr().err)
    assert main(["plot", str(cmp), "-o", str(tmp_path / "c.png")]) == 2
    assert "plot takes runs and benchmarks" in one_error_line(capsys.readouterr().err)


def test_unwritable_output_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() == 0:  # root writes into a chmod-locked folder; /proc/self refuses everyone
        if not Path("/proc/self").is_dir():
            pytest.skip("running as root without /proc: no folder refuses writes")
        target = Path("/proc/self/x.json")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        target = locked / "x.json"
    marker = tmp_path / "ran"
    assert main(["run", "-o", str(target), "--", PY, "-c", f"open({str(marker)!r}, 'w')"]) == 2
    assert "permission denied" in one_error_line(capsys.readouterr().err)
    assert not marker.exists()  # refused before the command ran


def test_run_in_process_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fast.json"
    code = "import time; b = b'x' * (60 * 2**20); time.sleep(0.3)"
    argv = ["run", "-q", "--mode", "process", "--interval", "2ms", "-o", str(out), "--", PY, "-c", code]
    assert main(argv) == 0
    timeline = json.loads(out.read_text())["data"]["timeline"]
    assert timeline["mode"] == "process"
    assert timeline["interval"] == 0.002
    assert len(timeline["t"]) > 30
    assert max(timeline["signals"]["rss"]) > 60 * MIB
