"""Document 004's Python memory tests (/work/shared/seeds/004_*.txt).

The document's snippet runs as written; it leaves ``get_rss_mb`` to the reader (psutil
"optional"), so it is one line over memwatch's statm probe here. Its pressure test is
described, not listed: 10,000 images of 1 MB and more, ``gc.collect()`` every 1,000, pass
when RSS growth < 500 MB and VMS growth < 800 MB. memwatch runs it as the fragmentation
scenario on :func:`tests.seed004.images.process_batch` (10 cycles of 1,000 images) in a
capped child, with ``max_rss_growth`` and ``max_vms_growth``.
"""

from __future__ import annotations

import json
import sys

import pytest

from memwatch.cli import main
from memwatch.model.base import load_document
from memwatch.model.stress import StressReport
from memwatch.probes.statm import rss
from memwatch.stress import StressOptions, run_scenario
from tests.seed004.images import process_batch

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="capped children need Linux")

MB = 10**6


def get_rss_mb() -> float:
    return rss() / MB


def test_gc_verification_snippet() -> None:
    # the document's snippet, with "create 10K results" filled in
    import gc

    baseline = get_rss_mb()
    # ... create 10K results ...
    results = [bytes(1000) for _ in range(10_000)]
    del results
    gc.collect()
    after = get_rss_mb()
    growth = after - baseline
    assert growth < 50  # Max 50MB growth


def test_pressure_test_passes_within_rss_and_vms_limits() -> None:
    opts = StressOptions(limit=256 * 2**20, cycles=10, max_rss_growth=500 * MB, max_vms_growth=800 * MB)
    result = run_scenario("fragmentation", "tests.seed004.images:process_batch", opts)
    checks = {c.name: c for c in result.checks}
    assert result.passed, result.checks
    assert checks["rss growth"].status == "pass"
    assert checks["vms growth"].status == "pass"
    assert checks["vms growth"].target == 800 * MB
    # 10 x 1,000 images of 1 MB went through; almost nothing stays
    assert result.metrics["cycles"] == 10
    assert 0 <= result.metrics["peak_vms_growth"] < 100 * MB
    assert all(s.vms > s.rss > 0 for s in result.samples)
    assert process_batch(3) == 3


def test_vms_growth_over_the_limit_fails_while_rss_passes() -> None:
    opts = StressOptions(limit=256 * 2**20, cycles=10, max_rss_growth=500 * MB, max_vms_growth=800 * MB)
    result = run_scenario("fragmentation", "tests.seed004.images:reserve_address_space", opts)
    checks = {c.name: c for c in result.checks}
    assert not result.passed
    assert checks["vms growth"].status == "fail"
    assert checks["rss growth"].status == "pass"
    # ten calls of 100 MB of address space each: about 1 GB of VMS, almost no RSS
    assert 950 * MB <= result.metrics["peak_vms_growth"] < 1100 * MB
    assert result.metrics["peak_rss_growth"] < 100 * MB


def test_cli_reports_vms_growth_in_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "stress",
        "tests.seed004.images:reserve_address_space",
        "--scenario",
        "fragmentation",
        "--cycles",
        "10",
        "--limit",
        "256MiB",
        "--max-rss-growth",
        "500MB",
        "--max-vms-growth",
        "800MB",
    ]
    assert main(argv) == 1
    out = capsys.readouterr().out
    line = next(text for text in out.splitlines() if text.strip().startswith("vms growth"))
    assert " fail " in line
    assert "< 762.9 MiB" in line
    assert main([*argv, "--json"]) == 1
    report = load_document(json.loads(capsys.readouterr().out), expected=StressReport)
    result = report.scenario("fragmentation")
    assert result.metrics["peak_vms_growth"] >= 950 * MB
    assert next(c for c in result.checks if c.name == "vms growth").status == "fail"
    assert result.samples[0].vms > 0


def test_bad_vms_limit_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["stress", "--scenario", "fragmentation", "--max-vms-growth", "lots"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "lots" in err
