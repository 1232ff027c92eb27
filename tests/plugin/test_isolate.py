"""--memwatch-isolate: tests with a checking marker run in a fresh child process."""

from __future__ import annotations

import os

import pytest

from memwatch.model.base import read_document
from memwatch.model.pytest import PytestSession
from memwatch.plugin.report import JSON_NAME


def test_marked_tests_run_in_a_child_and_report_here(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMWATCH_TEST_PARENT_PID", str(os.getpid()))
    pytester.makepyfile("""
        import os
        import pytest

        PARENT = int(os.environ["MEMWATCH_TEST_PARENT_PID"])

        @pytest.mark.limit_memory("10 MB")
        def test_isolated_over():
            assert os.getpid() != PARENT
            data = bytearray(40_000_000)
            data[::4096] = b"x" * len(data[::4096])

        @pytest.mark.limit_memory("200 MB")
        @pytest.mark.parametrize("n", [1], ids=["with space"])
        def test_isolated_ok(n):
            assert os.getpid() != PARENT

        def test_not_marked_runs_here():
            assert os.getpid() == PARENT

        @pytest.mark.limit_memory("200 MB")
        def test_child_dies():
            os._exit(3)
    """)
    result = pytester.runpytest("--memwatch-isolate", "--memwatch-report", "out", "-v")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*::test_isolated_over FAILED*",
            "*::test_isolated_ok[[]with space[]] PASSED*",
            "*::test_not_marked_runs_here PASSED*",
            "*::test_child_dies FAILED*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "memwatch --memwatch-isolate: the child process running *::test_child_dies "
            "ended before the test did (exited with code 3)"
        ]
    )
    result.stdout.fnmatch_lines(["@pytest.mark.limit_memory: the test body's peak RSS exceeded its limit"])
    session = read_document(pytester.path / "out" / JSON_NAME, expected=PytestSession)
    names = sorted(r.nodeid.rsplit("::")[-1] for r in session.tests)
    # the children's records came back; the child that died left none
    assert names == ["test_isolated_ok[with space]", "test_isolated_over", "test_not_marked_runs_here"]
    over = session.record("test_marked_tests_run_in_a_child_and_report_here.py::test_isolated_over")
    assert over.peak is not None
    assert over.peak > 30_000_000
    # the outcome is the child's call outcome, not "passed" by default
    assert over.outcome == "failed"
    ok = session.record("test_marked_tests_run_in_a_child_and_report_here.py::test_isolated_ok[with space]")
    assert ok.outcome == "passed"


def test_child_gets_an_absolute_database_url() -> None:
    from pathlib import Path

    from memwatch.plugin.isolate import absolute_db_url

    base = Path("/work/run")
    assert absolute_db_url("h.db", base) == "/work/run/h.db"
    assert absolute_db_url("/data/h.db", base) == "/data/h.db"
    assert absolute_db_url("sqlite:///rel/h.db", base) == "sqlite:////work/run/rel/h.db"
    assert absolute_db_url("sqlite:////abs/h.db", base) == "sqlite:////abs/h.db"
    assert absolute_db_url("sqlite:///:memory:", base) == "sqlite:///:memory:"
    assert absolute_db_url("postgresql://u@db/x", base) == "postgresql://u@db/x"
