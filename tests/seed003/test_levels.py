"""Document 003's test levels (/work/shared/seeds/003_*.txt): its quick run is
``pytest tests/test_memory_protection.py tests/test_oom_recovery.py -v -m "not slow"``, so its
``oom``, ``recovery`` and ``stress`` tests are quick tests; only ``slow`` (the 1-hour recording)
waits. memwatch puts those markers at ``comprehensive`` by default; ``[tool.memwatch.pytest]
levels`` moves them. The tests below carry the document's class and test names and markers
(``pytest_memory.ini``: slow, gpu, stress, oom, recovery).
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

DOCUMENT_TESTS = """
import pytest

class TestMemoryStress:
    @pytest.mark.stress
    def test_sustained_high_memory_usage(self): pass

    @pytest.mark.slow
    def test_continuous_recording_memory_leak(self): pass

class TestOOMDetection:
    @pytest.mark.oom
    def test_oom_detection(self): pass

class TestGracefulDegradation:
    @pytest.mark.recovery
    def test_progressive_recovery_strategies(self): pass

class TestDataPreservation:
    @pytest.mark.memory_capture
    def test_audio_buffer_preservation(self): pass
"""

INI = """
[tool.pytest.ini_options]
asyncio_default_fixture_loop_scope = "function"
markers = [
    "slow: 1-hour tests",
    "gpu: needs a GPU",
    "stress: stress tests",
    "oom: OOM tests",
    "recovery: recovery tests",
    "memory_capture: the project's own marker",
]
"""


def _project(pytester: pytest.Pytester, levels: str = "") -> None:
    pytester.makepyfile(test_memory_protection=DOCUMENT_TESTS)
    table = f"\n[tool.memwatch.pytest]\n{levels}\n" if levels else ""
    pytester.makefile(".toml", pyproject=INI + table)


def test_by_default_oom_and_recovery_wait_for_comprehensive(pytester: pytest.Pytester) -> None:
    _project(pytester)
    result = pytester.runpytest("--memwatch-level", "quick", "-rs")
    result.assert_outcomes(passed=1, skipped=4)
    result.stdout.fnmatch_lines(["*@pytest.mark.oom runs at --memwatch-level comprehensive and nightly*"])


def test_levels_table_makes_oom_recovery_and_stress_quick(pytester: pytest.Pytester) -> None:
    _project(pytester, 'levels = { quick = ["oom", "recovery", "stress"], nightly = ["memory_capture"] }')
    quick = pytester.runpytest("--memwatch-level", "quick", "-rs", "-v")
    # the document's "-m 'not slow'": everything but the 1-hour test (and the moved project marker)
    quick.assert_outcomes(passed=3, skipped=2)
    quick.stdout.fnmatch_lines(
        [
            "*TestMemoryStress::test_sustained_high_memory_usage PASSED*",
            "*TestOOMDetection::test_oom_detection PASSED*",
            "*TestGracefulDegradation::test_progressive_recovery_strategies PASSED*",
        ]
    )
    quick.stdout.fnmatch_lines(
        [
            "*@pytest.mark.slow runs at --memwatch-level comprehensive and nightly (this run: quick)",
        ]
    )
    comprehensive = pytester.runpytest("--memwatch-level", "comprehensive", "-rs")
    comprehensive.assert_outcomes(passed=4, skipped=1)
    comprehensive.stdout.fnmatch_lines(
        ["*@pytest.mark.memory_capture runs at --memwatch-level nightly (this run: comprehensive)"]
    )
    pytester.runpytest("--memwatch-level", "nightly").assert_outcomes(passed=5)


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        ('levels = { quick = ["oomm"] }', "pytest.levels.quick: unknown marker 'oomm' (did you mean 'oom'?)"),
        ('levels = { weekly = ["oom"] }', "unknown level 'weekly'"),
        ('levels = { quick = ["oom"], nightly = ["oom"] }', "marker 'oom' is listed under quick and nightly"),
        ('levels = { quick = "oom" }', "quick: expected a list of marker names"),
    ],
)
def test_bad_levels_table_is_a_one_line_usage_error(
    pytester: pytest.Pytester, levels: str, message: str
) -> None:
    _project(pytester, levels)
    result = pytester.runpytest("--memwatch-level", "quick")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 1
    assert message in errors[0]
