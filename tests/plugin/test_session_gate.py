"""``--memwatch-fail-on``: the session-wide gate compares every recorded test (marked or not) with
its baseline in the history database and fails the run when one fails a gate."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memwatch.errors import ConfigError
from memwatch.plugin.options import SESSION_METRICS, session_gates
from memwatch.store import open_store
from tests.plugin.dbrun import run_with_db

TESTS = """
import os

SIZE = int(os.environ["MW_TEST_SIZE"])


def build(size):
    data = bytearray(size)
    data[::4096] = b"x" * len(data[::4096])
    return data


def test_builds():
    build(SIZE)


def test_small():
    build(1000)
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_gate_run=TESTS)
    return pytester


_run = run_with_db


GATES = ("--memwatch-fail-on", "peak:10%", "--memwatch-fail-on", "growth:1MiB")


def test_every_recorded_test_is_compared_with_its_baseline(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _run(suite, 20_000_000, *GATES, monkeypatch=monkeypatch)
    first.assert_outcomes(passed=2)
    assert first.ret == pytest.ExitCode.OK
    first.stdout.fnmatch_lines(
        [
            "memwatch: wrote *h.db: baselines in *: * set (no baseline before)",
            "memwatch: gates peak:10%, growth:1MiB passed: 0 test figures compared, "
            "* without a baseline yet; no test failed a gate",
        ]
    )
    with open_store(f"sqlite:///{suite.path / 'h.db'}") as store:  # unmarked tests got baselines
        tests = {b.test_id.rsplit("::")[-1] for b in store.baselines(metric="peak")}
    assert tests == {"test_builds", "test_small"}

    same = _run(suite, 20_000_000, *GATES, monkeypatch=monkeypatch)
    same.assert_outcomes(passed=2)
    assert same.ret == pytest.ExitCode.OK
    same.stdout.fnmatch_lines(["memwatch: gates peak:10%, growth:1MiB passed: * test figures compared; *"])

    bigger = _run(suite, 30_000_000, *GATES, monkeypatch=monkeypatch)  # +50 % peak, tests pass
    bigger.assert_outcomes(passed=2)
    assert bigger.ret == pytest.ExitCode.TESTS_FAILED
    bigger.stdout.fnmatch_lines(
        [
            "memwatch: gate peak:10% failed: test_gate_run.py::test_builds peak 2* MiB now, "
            "1* MiB in the baseline (+*%)",
            "memwatch: gates peak:10%, growth:1MiB FAILED: * test figures compared; 1 test(s) failed a gate",
        ]
    )
    assert "test_small peak" not in bigger.stdout.str()


def test_without_the_option_nothing_is_gated(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(suite, 20_000_000, *GATES, monkeypatch=monkeypatch).assert_outcomes(passed=2)
    result = _run(suite, 30_000_000, monkeypatch=monkeypatch)
    assert result.ret == pytest.ExitCode.OK
    assert "memwatch: gate" not in result.stdout.str()


def test_the_gates_come_from_the_ini_file_too(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    ini = suite.path / "tox.ini"  # the quiet ini file every generated run gets (tests/plugin/conftest.py)
    ini.write_text(ini.read_text().rstrip("\n") + "\nmemwatch_fail_on =\n    peak:10%\n")
    _run(suite, 20_000_000, monkeypatch=monkeypatch).assert_outcomes(passed=2)
    result = _run(suite, 30_000_000, monkeypatch=monkeypatch)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["memwatch: gate peak:10% failed: *test_builds peak *"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--memwatch-fail-on", "peak:lots%"),
            "--memwatch-fail-on: invalid gate 'peak:lots%': 'lots%' is not a percentage",
        ),
        (
            ("--memwatch-fail-on", "peek:10%"),
            "--memwatch-fail-on 'peek:10%': the gate takes no metric 'peek' *",
        ),
        (
            ("--memwatch-fail-on", "duration:50%"),
            "--memwatch-fail-on 'duration:50%': the gate takes no metric 'duration' *",
        ),
        (("--memwatch-fail-on", "10%"), "--memwatch-fail-on: invalid gate '10%': expected METRIC:THRESHOLD*"),
    ],
)
def test_a_bad_gate_is_a_usage_error(pytester: pytest.Pytester, args: tuple[str, ...], message: str) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest("--memwatch-db", "h.db", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1, errors
    result.stderr.fnmatch_lines([f"ERROR: {message}"])


def test_a_gate_needs_the_database(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest("--memwatch-fail-on", "peak:10%")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --memwatch-fail-on needs --memwatch-db URL*"])


@given(st.sampled_from(SESSION_METRICS), st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_gate_parser_round_trips_percent_gates(metric: str, percent: float) -> None:
    (text,) = session_gates([f"{metric}:{percent!r}%"])
    assert session_gates([text]) == (text,)
    assert text.startswith(f"{metric}:")


@given(st.text(max_size=30))
def test_gate_parser_accepts_or_names_the_gate(text: str) -> None:
    try:
        gates = session_gates([text])
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("--memwatch-fail-on")
        assert "\n" not in message.replace(repr(text), "")
    else:
        assert len(gates) == 1
        assert gates[0].split(":", 1)[0] in SESSION_METRICS


def test_the_gates_come_from_the_memwatch_config(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    (suite.path / "memwatch.yaml").write_text("pytest:\n  fail_on: ['peak:10%']\n")
    _run(suite, 20_000_000, monkeypatch=monkeypatch).assert_outcomes(passed=2)
    result = _run(suite, 30_000_000, monkeypatch=monkeypatch)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["memwatch: gate peak:10% failed: *test_builds peak *"])


def test_xdist_workers_measure_and_the_controller_gates(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(suite, 20_000_000, "-n", "2", *GATES, monkeypatch=monkeypatch).assert_outcomes(passed=2)
    result = _run(suite, 30_000_000, "-n", "2", *GATES, monkeypatch=monkeypatch)
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["memwatch: gate peak:10% failed: *test_builds peak *"])
