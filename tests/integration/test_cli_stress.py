"""``memwatch stress`` end to end: real capped children, exit codes, JSON, one-line errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from memwatch.cli import main
from memwatch.model.base import load_document, read_document
from memwatch.model.stress import StressReport

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_DATA caps need Linux"),
]

W = "memwatch.stress.workloads:"


@pytest.mark.slow
def test_ramp_prints_the_breaking_point(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["stress", W + "hold", "--limit", "96MiB", "--start", "16", "--max-load", "200"])
    out = capsys.readouterr().out
    assert code == 0
    assert "under a 96.0 MiB cap" in out
    assert "ramp           PASS" in out
    assert "(MemoryError)" in out


def test_failed_spike_exits_1_and_saves_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "stress.json"
    code = main(
        [
            "stress",
            W + "leaky_spike",
            "--scenario",
            "spike",
            "--load",
            "60",
            "--limit",
            "256MiB",
            "--output",
            str(path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "spike          FAIL" in out
    assert "python heap recovery       fail" in out
    report = read_document(path, expected=StressReport)
    assert report.target == W + "leaky_spike"
    assert not report.passed
    assert 0.4 < report.scenario("spike").metrics["heap_recovery"] < 0.6


def test_json_output_is_a_stress_report(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "stress",
            W + "steady",
            "--scenario",
            "soak",
            "--scenario",
            "concurrent",
            "--duration",
            "1s",
            "--iterations",
            "3",
            "--limit",
            "200MiB",
            "--json",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    report = load_document(json.loads(out), expected=StressReport)
    assert [s.scenario for s in report.scenarios] == ["soak", "concurrent"]
    assert report.limit == 200 * 2**20


def test_harness_with_a_fake_gpu(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "stress",
            "--duration",
            "1s",
            "--cpu-pressure",
            "50",
            "--gpu-pressure",
            "2000",
            "--fake-gpu",
            "1500",
            "--toggle-interval",
            "0.25",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "harness: CPU 50.0 MB, GPU 2.0 GB" in out
    assert "gpu out-of-memory handled" in out
    assert "OOM caught" in out


def test_harness_without_a_gpu_says_unavailable(capsys: pytest.CaptureFixture[str]) -> None:
    if "torch" in sys.modules:
        pytest.skip("torch is imported here: the real device path would run")
    code = main(
        [
            "stress",
            "--duration",
            "0.5s",
            "--cpu-pressure",
            "20",
            "--gpu-pressure",
            "100",
            "--toggle-interval",
            "0.25",
            "--json",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    report = load_document(json.loads(out), expected=StressReport)
    gpu = next(c for c in report.scenarios[0].checks if c.name == "gpu pressure")
    assert gpu.status == "not-judged"
    assert gpu.detail.startswith("unavailable")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["stress"], "give a target module:callable"),
        (["stress", "nocolon"], "expected module:callable"),
        (["stress", "memwatch_no_such_mod:f", "--scenario", "spike"], "cannot import module"),
        (["stress", "memwatch.stress.workloads:MB", "--scenario", "spike"], "is not callable (it is an int)"),
        (["stress", W + "hold", "--limit", "12 parsecs"], "invalid size"),
        (["stress", W + "hold", "--limit", "1MiB"], "too small"),
        (["stress", W + "hold", "--scenario", "boom"], "unknown scenario 'boom'"),
        (["stress", W + "hold", "--duration", "soon"], "invalid duration"),
        (["stress", W + "hold", "--start", "10", "--max-load", "5"], "invalid ramp range"),
        (["stress", W + "hold", "--cycles", "0", "--scenario", "fragmentation"], "invalid --cycles 0"),
        (["stress", W + "hold", "--cpu-pressure", "10", "--scenario", "spike"], "runs without --scenario"),
        (["stress", "nocolon", "--harness"], "expected module:callable"),
        (["stress", "--cpu-pressure", "-5"], "invalid --cpu-pressure"),
        (["stress", "--cpu-pressure", "0", "--gpu-pressure", "0"], "needs --cpu-pressure or --gpu-pressure"),
        (["stress", "--cpu-pressure", "10", "--toggle-interval", "0"], "invalid --toggle-interval"),
        (["stress", W + "hold", "--cap", "magic"], "Invalid value for '--cap'"),
        # 0 used to mean "the default 512 MiB" silently
        (["stress", W + "spike", "--scenario", "spike", "--limit", "0"], "memory limit 0 B is too small"),
        (
            ["stress", W + "hold", "--limit", "1B"],
            "memory limit 1 B is too small: a capped Python child needs at least 32.0 MiB",
        ),
        (["stress", W + "spike", "--scenario", "spike", "--limit", "100TB"], "is more than this machine has"),
        # a concurrent scenario with no worker passed with "0 == 0 calls completed"
        (
            ["stress", W + "steady", "--scenario", "concurrent", "--threads", "0", "--tasks", "0"],
            "needs at least one worker",
        ),
        # 100,000 threads hung the child until its 300 s time limit
        (
            ["stress", W + "steady", "--scenario", "concurrent", "--threads", "100000"],
            "invalid --threads 100000: must be <= 1,024",
        ),
        # an output path that cannot be written is refused before the run (was a traceback after it)
        (["stress", W + "spike", "--scenario", "spike", "-o", "/"], "cannot write /: it is a directory"),
        (
            ["stress", W + "spike", "--scenario", "spike", "-o", "/proc/memwatch-qa.json"],
            "cannot write /proc/memwatch-qa.json",
        ),
        (
            ["stress", "--cpu-pressure", "10", "--duration", "1s", "-o", "/"],
            "cannot write /: it is a directory",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_harness_pressure_above_the_cap_fails(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "stress",
            "--duration",
            "0.5s",
            "--cpu-pressure",
            "200",
            "--limit",
            "128MiB",
            "--toggle-interval",
            "0.25",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "cpu pressure fits          fail" in out
    assert "(cap 128.0 MiB)" in out
