"""Document 003's memory stress harness (/work/shared/seeds/003_*.txt, "Memory Stress Harness").

The document runs ``python tests/test_memory_protection.py --duration 1.0`` (defaults: 1 hour,
1000 MB GPU pressure, 500 MB CPU pressure, a toggle every 30 s) and the same with
``--duration 4.0 --gpu-pressure 2000 --cpu-pressure 1000 --toggle-interval 60.0``. In memwatch
it is ``memwatch stress --harness`` with the same flags; these tests shorten ``--duration``
and ``--toggle-interval`` so the suite stays fast. The document's pass/fail criteria: fail on
sustained growth over 1 MB/s or a total growth over 100 MB, and the failure states both.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import pytest

from memwatch.cli import main
from memwatch.model.base import load_document
from memwatch.model.stress import StressReport
from memwatch.stress import seed

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="capped children need Linux"),
]

MB = 10**6


def test_harness_runs_with_the_documents_defaults(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: dict[str, Any] = {}
    real = seed.run_harness

    def shortened(**kwargs: Any) -> Any:
        asked.update(kwargs)
        # the document's pressure, for one second instead of an hour
        return real(**{**kwargs, "duration": 1.0, "toggle": 0.25})

    monkeypatch.setattr(seed, "run_harness", shortened)
    code = main(["stress", "--harness"])
    out = capsys.readouterr().out
    assert asked["duration"] == 3600.0
    assert asked["cpu"] == 500 * MB
    assert asked["gpu"] == 1000 * MB
    assert asked["toggle"] == 30.0
    assert code == 0, out
    assert "harness: CPU 500.0 MB, GPU 1.0 GB" in out
    assert "growth rate                pass" in out
    assert "total growth               pass" in out
    if "torch" not in sys.modules:  # no GPU here: the GPU part says why, it is not judged
        assert "gpu pressure               not-judged" in out


def test_documents_custom_flags_with_a_short_duration(capsys: pytest.CaptureFixture[str]) -> None:
    # --duration 4.0 --gpu-pressure 2000 --cpu-pressure 1000 --toggle-interval 60.0, shortened
    argv = ["stress", "--harness", "--duration", "2s", "--gpu-pressure", "2000", "--fake-gpu", "1500"]
    code = main([*argv, "--cpu-pressure", "100", "--toggle-interval", "0.25", "--json"])
    report = load_document(json.loads(capsys.readouterr().out), expected=StressReport)
    result = report.scenario("harness")
    assert code == 0
    assert result.params["cpu"] == str(100 * MB)
    assert result.metrics["cycles"] >= 3
    assert result.metrics["gpu_ooms"] == result.metrics["cycles"]  # 2000 MB never fits in 1500
    assert result.metrics["total_growth"] < 100 * MB
    assert abs(result.metrics["growth_rate"]) < 1 * MB


def test_a_leak_fails_and_the_text_states_rate_and_total(capsys: pytest.CaptureFixture[str]) -> None:
    # the application's toggle keeps 30 MB each time it is switched on
    argv = ["stress", "memwatch.stress.workloads:leaky", "--load", "30000", "--harness"]
    code = main([*argv, "--duration", "2s", "--cpu-pressure", "50", "--toggle-interval", "0.25"])
    out = capsys.readouterr().out
    assert code == 1
    assert "harness on memwatch.stress.workloads:leaky" in out
    assert re.search(r"growth rate +fail +[\d.]+ MB/s < 1\.0 MB/s", out), out
    assert re.search(r"total growth +fail +[\d.]+ MiB < 95\.4 MiB", out), out
    note = re.search(r"note: memory leak detected: growth rate ([\d.]+) MB/s, total growth ([\d.]+) MB", out)
    assert note is not None, out
    # 30 MB per cycle, a cycle every 0.5 s: about 60 MB/s, and at least 3 cycles' worth in all
    assert 20 < float(note.group(1)) < 120
    assert float(note.group(2)) >= 90


def test_harness_refuses_a_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stress", "--harness", "--scenario", "soak"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "--harness" in err


def test_a_few_mib_over_a_short_run_is_judged_as_a_total_not_a_rate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 1.5 MB kept per cycle for 2 s: a "rate" of MB/s, but a few MiB in all, the allocator's scale
    argv = ["stress", "memwatch.stress.workloads:leaky", "--load", "1500", "--harness"]
    code = main([*argv, "--duration", "2s", "--cpu-pressure", "50", "--toggle-interval", "0.25"])
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.strip().startswith("growth rate"))
    assert code == 0, out
    assert re.search(r"growth rate +pass +[\d.]+ MiB < 16\.0 MiB", line), line
    assert "noise floor" in line, line
    assert "MB/s" in line, line
