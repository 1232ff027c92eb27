"""Options, ini keys and their bad values (real pytest runs on generated files)."""

from __future__ import annotations

import pytest

from tests.plugin.conftest import INI

TESTS = """
def test_one():
    data = bytearray(1000)
"""


def test_every_option_is_in_the_memwatch_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["memwatch: memory budgets, leak checks and records:"])
    for flag in (
        "--memwatch ",
        "--memwatch-level=LEVEL",
        "--memwatch-leaks",
        "--memwatch-report=DIR",
        "--memwatch-db=URL",
        "--memwatch-isolate",
        "--memwatch-tracemalloc",
        "--memwatch-summary-rows=N",
        "--memwatch-update-baselines",
        "--memwatch-fail-on=GATE",
    ):
        result.stdout.fnmatch_lines([f"*{flag}*"])
    for ini in (
        "memwatch ",
        "memwatch_level",
        "memwatch_leaks",
        "memwatch_report",
        "memwatch_db",
        "memwatch_isolate",
        "memwatch_tracemalloc",
        "memwatch_summary_rows",
        "memwatch_update_baselines",
        "memwatch_fail_on",
    ):
        result.stdout.fnmatch_lines([f"  {ini}*"])
    assert "--memwatch-child-out" not in result.stdout.str()


def test_plain_run_does_not_activate_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        def pytest_sessionfinish(session):
            plugin = session.config.pluginmanager.get_plugin("memwatch-session")
            print("\\nMEMWATCH-ACTIVE", plugin is not None)
    """)
    pytester.makepyfile(TESTS)
    result = pytester.runpytest("-s")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*MEMWATCH-ACTIVE False*"])
    assert "== memwatch ==" not in result.stdout.str()


def test_option_activates_and_prints_the_table(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(TESTS)
    result = pytester.runpytest("--memwatch")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "memwatch: records every test (peak: *)",
            "*= memwatch =*",
            "test * peak * growth * duration * checks",
            "test_option_activates_and_prints_the_table.py::test_one *",
            "1 tests measured (peak: body RSS peak over its start, *); 0 failed a memory check",
        ]
    )


def test_ini_key_turns_recording_on(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI + "memwatch = true\nmemwatch_summary_rows = 1\n")

    pytester.makepyfile(TESTS + "\ndef test_two():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == 0
    result.stdout.fnmatch_lines(["2 tests measured*"])
    table = [line for line in result.stdout.lines if "::test_" in line and "B " in line]
    assert len(table) == 1  # memwatch_summary_rows = 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--memwatch-level", "fast"],
            "ERROR: --memwatch-level: unknown level 'fast' (use quick, comprehensive or nightly)",
        ),
        (
            ["--memwatch", "--memwatch-summary-rows", "many"],
            "ERROR: --memwatch-summary-rows: 'many' is not a count of rows (0 or more)",
        ),
    ],
)
def test_bad_option_is_a_usage_error(pytester: pytest.Pytester, args: list[str], message: str) -> None:
    pytester.makepyfile(TESTS)
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_bad_level_in_ini_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI + "memwatch_level = weekly\n")
    pytester.makepyfile(TESTS)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --memwatch-level: unknown level 'weekly'*"])


def test_unwritable_report_dir_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".txt", blocker="a file, not a folder")
    pytester.makepyfile(TESTS)
    result = pytester.runpytest("--memwatch-report", "blocker.txt/reports")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --memwatch-report: cannot create 'blocker.txt/reports': *"])
    result = pytester.runpytest("--memwatch-report", "blocker.txt")
    result.stderr.fnmatch_lines(["ERROR: --memwatch-report: 'blocker.txt' is not a folder"])


def test_bad_tool_memwatch_config_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", memwatch="leaks:\n  max_growth: 12 XB\n")
    pytester.makepyfile(TESTS)
    result = pytester.runpytest("--memwatch-leaks")  # the leak settings are read when needed
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *memwatch.yaml:2: leaks.max_growth: invalid size '12 XB'*"])


MANY = """
def test_a():
    pass

def test_b():
    pass

def test_c():
    pass
"""


def test_tool_memwatch_pytest_section_sets_option_defaults(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.memwatch.pytest]\nrecord = true\nsummary_rows = 1\n")
    pytester.makepyfile(MANY)
    result = pytester.runpytest()
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["memwatch: records every test*", "3 tests measured*"])
    assert result.stdout.str().count("::test_") == 1  # one row in the table
    # the ini file wins over [tool.memwatch.pytest], the command line over both
    pytester.makeini(INI + "memwatch_summary_rows = 2\n")
    assert pytester.runpytest().stdout.str().count("::test_") == 2
    assert pytester.runpytest("--memwatch-summary-rows", "3").stdout.str().count("::test_") == 3


def test_memwatch_yaml_pytest_section_and_its_bad_values(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", memwatch="pytest:\n  level: weekly\n")
    pytester.makepyfile(MANY)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *memwatch.yaml:2: pytest.level: *"])
    pytester.makefile(".yaml", memwatch="pytest:\n  level: quick\n")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["memwatch: checks marked tests, level quick*"])


def test_a_tool_memwatch_table_without_pytest_is_not_validated(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.memwatch.leaks]\nmax_growth = '12 XB'\n")
    pytester.makepyfile(MANY)
    result = pytester.runpytest()
    result.assert_outcomes(passed=3)  # the bad leak setting matters only to a leak check
