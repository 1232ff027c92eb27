"""no_leaks and --memwatch-leaks: the test body through the leak engine, fixtures set up once."""

from __future__ import annotations

import pytest

SYNC = """
import pytest

KEPT = []
SETUPS = []

@pytest.fixture
def client():
    SETUPS.append(1)
    return {"calls": 0}

@pytest.mark.no_leaks(max_growth="1 KiB")
def test_clean(client):
    client["calls"] += 1
    scratch = [object() for _ in range(3)]

@pytest.mark.no_leaks(max_growth="1 KiB")
def test_leaky():
    KEPT.append(bytearray(256))

def test_fixture_was_set_up_once_for_the_whole_loop():
    assert len(SETUPS) == 1

@pytest.mark.no_leaks
def test_raises():
    assert 1 + 1 == 3, "the test's own failure"
"""


def test_no_leaks_verdicts_and_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SYNC)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=2)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*_ test_leaky _*",
            "@pytest.mark.no_leaks: the leak engine found a leak in the test body",
            "LEAK (*) in *test_leaky: grows * per call, * per 1,000 calls: over the budget of 1 KiB",
            "  decided by py_blocks: *",
            "  allocation sites of the retained memory:",
            "    *test_no_leaks_verdicts_and_errors.py:18: *",
            "  kept alive by:",
            "    module test_no_leaks_verdicts_and_errors.KEPT -> list[[]*[]] -> bytearray*",
        ]
    )
    # a test that raises inside the loop reports its own error, not a leak or an engine error
    result.stdout.fnmatch_lines(["*_ test_raises _*", "E       AssertionError: the test's own failure"])
    assert "OperationError" not in out
    assert "During handling" not in out
    assert "FAILED test_no_leaks_verdicts_and_errors.py::test_clean" not in out


ASYNC = """
import asyncio
import pytest

KEPT = []

@pytest.mark.asyncio
@pytest.mark.no_leaks(max_growth="1 KiB")
async def test_asyncio_clean():
    await asyncio.sleep(0)

@pytest.mark.asyncio
@pytest.mark.no_leaks(max_growth="1 KiB")
async def test_asyncio_leaky():
    await asyncio.sleep(0)
    KEPT.append(bytearray(512))

@pytest.fixture
def anyio_backend():
    return "asyncio"

@pytest.mark.anyio
@pytest.mark.no_leaks(max_growth="1 KiB")
async def test_anyio_clean():
    await asyncio.sleep(0)

@pytest.mark.anyio
@pytest.mark.no_leaks(max_growth="1 KiB")
async def test_anyio_leaky():
    await asyncio.sleep(0)
    KEPT.append(bytearray(512))

@pytest.mark.asyncio
@pytest.mark.no_leaks
async def test_asyncio_raises():
    await asyncio.sleep(0)
    raise KeyError("async own error")
"""


def test_no_leaks_on_async_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(ASYNC)
    result = pytester.runpytest_subprocess()  # a fresh process: no state from earlier in-process runs
    result.assert_outcomes(passed=2, failed=3)
    for name in ("test_asyncio_leaky", "test_anyio_leaky"):
        result.stdout.fnmatch_lines(
            [
                f"*_ {name} _*",
                "@pytest.mark.no_leaks: the leak engine found a leak in the test body",
                f"LEAK (*) in *:{name}: *",
            ]
        )
    result.stdout.fnmatch_lines(["FAILED *::test_asyncio_raises - KeyError*"])
    result.stdout.fnmatch_lines(["E       KeyError: 'async own error'"])


def test_no_leaks_in_a_class_with_parametrized_ids(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        KEPT = []

        class TestHandlers:
            @pytest.mark.no_leaks(max_growth="1 KiB")
            @pytest.mark.parametrize("keep", [False, True], ids=["drop", "keep"])
            def test_handle(self, keep):
                item = bytearray(300)
                if keep:
                    KEPT.append(item)
    """)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*::TestHandlers::test_handle[[]drop[]] PASSED*", "*::TestHandlers::test_handle[[]keep[]] FAILED*"]
    )


def test_memwatch_leaks_option_runs_every_test_through_the_engine(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        KEPT = []

        def test_clean():
            scratch = bytearray(100)

        def test_leaky():
            KEPT.append(bytearray(4000))
    """)
    result = pytester.runpytest("--memwatch-leaks")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.no_leaks: the leak engine found a leak in the test body",
            "LEAK (*) in *:test_leaky: *",
        ]
    )
    result.stdout.fnmatch_lines(["*::test_clean * no_leaks ok"])


def test_unknown_signal_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.no_leaks(signals=["heap_of_gold"])
        def test_marked():
            pass
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)  # a usage error of the test, found before it runs: not a failure
    result.stdout.fnmatch_lines(
        ["memwatch usage error: *::test_marked: @pytest.mark.no_leaks: unknown signal(s) 'heap_of_gold'*"]
    )
    assert "Traceback" not in result.stdout.str()


def test_tool_memwatch_leak_defaults_apply(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", memwatch="leaks:\n  max_growth: 1 KiB\n")
    pytester.makepyfile("""
        import pytest

        KEPT = []

        @pytest.mark.no_leaks
        def test_leaky():
            KEPT.append(bytearray(300))
    """)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)  # 300 B/call passes the engine's 1 MB default, not 1 KiB
    result.stdout.fnmatch_lines(["*: over the budget of 1 KiB"])


CORPUS_TESTS = """
import inspect

import pytest

from tests.leak_corpus.cases import CASES, reset

SYNC = [c for c in CASES if not inspect.iscoroutinefunction(c.func)]
ASYNC = [c for c in CASES if inspect.iscoroutinefunction(c.func)]


@pytest.fixture(autouse=True)
def _fresh_corpus():
    yield
    reset()


@pytest.mark.no_leaks(max_growth="0 B")  # any leak found fails: compares verdicts, not budgets
@pytest.mark.parametrize("case", SYNC, ids=[c.name for c in SYNC])
def test_case(case):
    try:
        case.func()
    except case.expected_exceptions:
        pass


@pytest.mark.asyncio
@pytest.mark.no_leaks(max_growth="0 B")
@pytest.mark.parametrize("case", ASYNC, ids=[c.name for c in ASYNC])
async def test_async_case(case):
    await case.func()
"""


@pytest.mark.slow
def test_the_leak_corpus_through_the_plugin_keeps_the_engines_answers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every corpus leak fails its no_leaks test, and no trap does: the plugin adds no error."""
    import json
    from pathlib import Path

    from tests.leak_corpus.cases import CLEAN, LEAKS

    pytester.makepyfile(test_corpus=CORPUS_TESTS)
    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("PYTHONPATH", str(root))
    result = pytester.runpytest_subprocess("--memwatch-report", "out", "-p", "no:randomly")
    doc = json.loads((pytester.path / "out" / "memwatch-pytest.json").read_text())
    outcome = {t["nodeid"].split("[", 1)[1].rstrip("]"): t["outcome"] for t in doc["data"]["tests"]}
    assert {name for name, o in outcome.items() if o == "failed"} == {c.name for c in LEAKS}, (
        result.stdout.str()[-3000:]
    )
    assert {name for name, o in outcome.items() if o == "passed"} == {c.name for c in CLEAN}
    result.assert_outcomes(passed=len(CLEAN), failed=len(LEAKS))


def test_inconclusive_no_leaks_passes_with_a_warning(pytester: pytest.Pytester) -> None:
    """Too slow for the time budget: no verdict, so the test passes, and says so in a warning."""
    pytester.makepyfile(
        """
        import time
        import pytest

        @pytest.mark.no_leaks(time_budget="10ms")
        def test_slow():
            time.sleep(0.05)
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "--memwatch")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*InconclusiveLeakCheck: @pytest.mark.no_leaks could not decide, the test passes unchecked: "
            "inconclusive for *test_slow: one call took * longer than the time budget*",
            "*test_slow*no_leaks inconclusive*",
        ]
    )
    assert "LEAK" not in result.stdout.str()


def test_a_passing_no_leaks_test_loads_no_reporter(pytester: pytest.Pytester) -> None:
    """Text is written only when asked for: a pass imports no reporter module."""
    pytester.makepyfile(
        """
        import sys
        import pytest

        @pytest.mark.no_leaks
        def test_clean():
            sum(range(10))

        def test_no_reporter_was_imported():
            loaded = sorted(m for m in sys.modules if m.startswith("memwatch.reporters"))
            assert loaded == []
        """
    )
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=2)
