"""A bad marker argument makes that one test an ERROR naming test, marker and value; the rest run."""

from __future__ import annotations

import pytest


def test_bad_markers_error_their_test_only(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_m="""
        import pytest

        @pytest.mark.limit_memory("1e400GB")
        def test_limit():
            pass

        @pytest.mark.no_leaks(max_growth="1e400GB")
        def test_budget():
            pass

        @pytest.mark.no_leaks(signals=["bogus"])
        def test_signal():
            pass

        @pytest.mark.memory_gc(max_pause_p95_ms=-1)
        def test_gc_negative():
            pass

        @pytest.mark.memory_gc(bogus=3)
        def test_gc_unknown():
            pass

        def test_fine():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly")  # without --memwatch too
    result.assert_outcomes(passed=1, errors=5)
    result.stdout.fnmatch_lines(
        [
            "*test_m.py::test_limit: @pytest.mark.limit_memory*1e400GB*too large*",
            "*test_m.py::test_budget: @pytest.mark.no_leaks*1e400GB*too large*",
            "*test_m.py::test_signal: @pytest.mark.no_leaks: unknown signal(s) 'bogus'*",
            "*test_m.py::test_gc_negative: @pytest.mark.memory_gc: max_pause_p95_ms=-1: expected milliseconds*",
            "*test_m.py::test_gc_unknown: @pytest.mark.memory_gc: unknown argument 'bogus'*",
        ],
        consecutive=False,
    )
    assert "INTERNALERROR" not in result.stdout.str()


def test_memory_gc_limits_from_the_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_g="""
        import pytest

        @pytest.mark.memory_gc(max_pause_p95_ms=0)
        def test_strict():
            for _ in range(3):
                x = [[] for _ in range(5000)]
                for a in x:
                    a.append(a)
                del x

        @pytest.mark.memory_gc(max_pause_p95_ms=1000)
        def test_lenient():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_g.py::test_strict - Failed: @pytest.mark.memory_gc*"])
