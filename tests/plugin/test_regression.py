"""memory_regression: each marked test against its baseline in the history store."""

from __future__ import annotations

import pytest

from memwatch.store import open_store
from tests.plugin.dbrun import run_with_db

TESTS = """
import os
import pytest

SIZE = int(os.environ["MW_TEST_SIZE"])


def build(size):
    data = bytearray(size)
    data[::4096] = b"x" * len(data[::4096])
    return data


@pytest.mark.memory_regression
def test_plain():
    build(SIZE)


@pytest.mark.memory_regression(fail_on="peak:10%")
def test_gated():
    build(SIZE)
"""
MODULE = "test_regression_run.py"


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_regression_run=TESTS)
    return pytester


_run = run_with_db


def _baselines(pytester: pytest.Pytester) -> dict[tuple[str, str], tuple[float, str]]:
    with open_store(f"sqlite:///{pytester.path / 'h.db'}") as store:
        return {(b.test_id.rsplit("::")[-1], b.metric): (b.value, b.source) for b in store.baselines()}


def test_first_run_sets_the_baselines(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run(suite, 20_000_000, monkeypatch=monkeypatch)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["memwatch: wrote *h.db: baselines in *: 4 set (no baseline before)"])
    baselines = _baselines(suite)
    assert set(baselines) == {
        ("test_plain", "peak"),
        ("test_plain", "growth"),
        ("test_gated", "peak"),
        ("test_gated", "growth"),
    }
    peak, source = baselines[("test_plain", "peak")]
    assert 18_000_000 < peak < 30_000_000
    assert source == "pytest run 1: first baseline"


def test_a_critical_regression_fails_the_test_in_words(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(suite, 20_000_000, monkeypatch=monkeypatch).assert_outcomes(passed=2)
    result = _run(suite, 45_000_000, monkeypatch=monkeypatch)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.memory_regression: the test body's memory regressed against its baseline "
            "(environment cpython*):",
            "  peak: 4* MiB now, 1* MiB in the baseline (run 1): peak went up +2* MiB (+1*%), "
            "critical regression",
            "(a test fails on a critical regression (peaks up >= 50 %, growth up >= 50.0 MB) or a failed gate; "
            "accept the change with --memwatch-update-baselines)",
        ]
    )
    # failed tests leave the baselines alone
    assert _baselines(suite)[("test_plain", "peak")][1] == "pytest run 1: first baseline"


def test_a_gate_fails_a_change_below_critical(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(suite, 20_000_000, monkeypatch=monkeypatch).assert_outcomes(passed=2)
    result = _run(suite, 27_000_000, "-v", monkeypatch=monkeypatch)  # +35 %: a major regression
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*::test_plain PASSED*", "*::test_gated FAILED*"])
    result.stdout.fnmatch_lines(
        [
            "  peak: * now, * in the baseline (run 1): peak went up * (+3*%), "
            "major regression; gate peak:10% failed"
        ]
    )


def test_an_improvement_moves_the_baseline(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(suite, 40_000_000, monkeypatch=monkeypatch).assert_outcomes(passed=2)
    result = _run(suite, 10_000_000, monkeypatch=monkeypatch)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["memwatch: wrote *h.db: baselines in *: * moved (a confirmed improvement)"])
    peak, source = _baselines(suite)[("test_plain", "peak")]
    assert peak < 20_000_000
    assert source == "pytest run 2: improvement"


def test_update_baselines_accepts_a_regression(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(suite, 10_000_000, monkeypatch=monkeypatch).assert_outcomes(passed=2)
    result = _run(suite, 40_000_000, "--memwatch-update-baselines", monkeypatch=monkeypatch)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["memwatch: wrote *h.db: baselines in *: 4 accepted (--memwatch-update-baselines)"]
    )
    peak, source = _baselines(suite)[("test_plain", "peak")]
    assert peak > 35_000_000
    assert source == "pytest run 2: --memwatch-update-baselines"
    _run(suite, 40_000_000, monkeypatch=monkeypatch).assert_outcomes(passed=2)  # the new normal


def test_workers_compare_and_the_controller_writes(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(suite, 20_000_000, "-n", "2", monkeypatch=monkeypatch).assert_outcomes(passed=2)
    assert len(_baselines(suite)) == 4
    result = _run(suite, 45_000_000, "-n", "2", monkeypatch=monkeypatch)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*peak went up*critical regression*"])


def test_without_a_database_the_test_is_recorded_not_compared(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    monkeypatch.setenv("MW_TEST_SIZE", "1000")
    result = suite.runpytest("--memwatch-report", "out")
    result.assert_outcomes(passed=2)
    doc = json.loads((suite.path / "out" / "memwatch-pytest.json").read_text())
    details = {t["nodeid"].rsplit("::")[-1]: t["checks"][0] for t in doc["data"]["tests"]}
    assert details["test_plain"]["passed"] is True
    assert details["test_plain"]["detail"] == "not compared: no history database (--memwatch-db URL)"


def test_bad_marker_and_option_are_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.memory_regression(fail_on="peak:lots")
        def test_bad_gate():
            pass

        @pytest.mark.memory_regression(tolerance=3)
        def test_bad_keyword():
            pass

        @pytest.mark.memory_regression(fail_on=["peak:10%", "peek:10%"])
        def test_bad_metric():
            pass
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            "*test_bad_gate: @pytest.mark.memory_regression: fail_on: invalid gate 'peak:lots'*",
            "*test_bad_keyword: @pytest.mark.memory_regression: unknown argument 'tolerance'*",
            "*test_bad_metric: @pytest.mark.memory_regression: fail_on: 'peek:10%': no metric 'peek' here "
            "(use peak, growth, python_peak, native_peak)",
        ]
    )
    result = pytester.runpytest("--memwatch-update-baselines")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--memwatch-update-baselines needs --memwatch-db URL*"])


def test_an_isolated_child_compares_and_the_parent_writes(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(suite, 20_000_000, monkeypatch=monkeypatch).assert_outcomes(passed=2)
    result = _run(suite, 45_000_000, "--memwatch-isolate", monkeypatch=monkeypatch)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*peak went up*critical regression*", "memwatch: wrote *h.db (run 2)"])
    result = _run(suite, 10_000_000, "--memwatch-isolate", monkeypatch=monkeypatch)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["memwatch: wrote *h.db: baselines in *: * moved (a confirmed improvement)"])
