"""A bad memwatch marker is that test's ERROR; the others run. Bad report/db paths stop the run in one line."""

from __future__ import annotations

import pytest

from .conftest import LONG

BAD_MARKERS = """
import pytest

@pytest.mark.limit_memory("1e400GB")
def test_huge_limit():
    pass

@pytest.mark.no_leaks(max_growth="1e400GB")
def test_huge_growth():
    pass

@pytest.mark.no_leaks(signals=["bogus"])
def test_bogus_signal():
    pass

@pytest.mark.memory_gc(pause_p95_ms=-1)
def test_negative_pause():
    pass

@pytest.mark.memory_gc(colour="red")
def test_unknown_gc_argument():
    pass

@pytest.mark.memory_gc(pause_p95_ms=10_000)
def test_gc_ok():
    pass

def test_plain():
    pass
"""


def test_bad_markers_are_errors_of_their_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bad=BAD_MARKERS)
    result = pytester.runpytest_inprocess(
        "-p", "no:randomly", "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function"
    )
    result.assert_outcomes(passed=2, errors=5)
    assert "INTERNALERROR" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*test_bad.py::test_huge_limit: @pytest.mark.limit_memory: invalid size '1e400GB': too large*",
            "*test_bad.py::test_huge_growth: @pytest.mark.no_leaks: invalid size '1e400GB'*",
            "*test_bad.py::test_bogus_signal: @pytest.mark.no_leaks: unknown signal(s) 'bogus'*",
            "*test_bad.py::test_negative_pause: @pytest.mark.memory_gc: pause_p95_ms=-1*",
            "*test_bad.py::test_unknown_gc_argument: @pytest.mark.memory_gc: unknown argument 'colour'*",
        ],
        consecutive=False,
    )


@pytest.mark.parametrize("option", ["--memwatch-report", "--memwatch-db"])
def test_over_long_report_and_db_paths(pytester: pytest.Pytester, option: str) -> None:
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", option, str(pytester.path / LONG))
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{option}*too long*"])
