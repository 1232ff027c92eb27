"""--memwatch records, --memwatch-report files, $GITHUB_STEP_SUMMARY and --memwatch-db."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memwatch.model.base import read_document
from memwatch.model.pytest import PytestSession
from memwatch.plugin.report import HTML_NAME, JSON_NAME, MARKDOWN_NAME

SUITE = """
import pytest

@pytest.fixture
def heavy():
    big = bytearray(60_000_000)          # set up outside the body: not counted
    big[::4096] = b"x" * len(big[::4096])
    yield big
    after = bytearray(60_000_000)        # teardown: not counted either
    after[::4096] = b"x" * len(after[::4096])

def test_uses_heavy_fixture(heavy):
    assert len(heavy) == 60_000_000

@pytest.mark.limit_memory("1 GB")      # a limit: memory kept from earlier tests is trimmed first
def test_body_allocates():
    data = bytearray(40_000_000)
    data[::4096] = b"x" * len(data[::4096])

@pytest.mark.memory
@pytest.mark.parametrize("n", [1, 2], ids=["one", "two"])
def test_param(n):
    assert n

class TestGroup:
    def test_method(self):
        pass
"""


def _session(folder: Path) -> PytestSession:
    return read_document(folder / JSON_NAME, expected=PytestSession)


def test_records_measure_the_body_apart_from_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("--memwatch", "--memwatch-report", "out")
    assert result.ret == 0
    session = _session(pytester.path / "out")
    ids = [r.nodeid.split("::", 1)[1] for r in session.tests]
    assert sorted(ids) == [
        "TestGroup::test_method",
        "test_body_allocates",
        "test_param[one]",
        "test_param[two]",
        "test_uses_heavy_fixture",
    ]
    fixture_test = session.record(
        "test_records_measure_the_body_apart_from_fixtures.py::test_uses_heavy_fixture"
    )
    body_test = session.record("test_records_measure_the_body_apart_from_fixtures.py::test_body_allocates")
    assert fixture_test.peak is not None
    assert fixture_test.peak < 10_000_000
    assert body_test.peak is not None
    assert 35_000_000 < body_test.peak < 80_000_000
    assert body_test.peak_source in ("VmHWM", "sampler")
    assert session.record(
        "test_records_measure_the_body_apart_from_fixtures.py::test_param[one]"
    ).markers == ("memory",)
    assert all(r.outcome == "passed" and r.duration > 0 for r in session.tests)
    result.stdout.fnmatch_lines(
        [
            "memwatch: wrote */out/memwatch-pytest.json",
            "memwatch: wrote */out/memwatch-pytest.md",
            "memwatch: wrote */out/memwatch-pytest.html",
        ]
    )


def test_markdown_report_and_github_step_summary(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = pytester.path / "step_summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.limit_memory("1 MB")
        def test_pipe_|_name():
            data = bytearray(30_000_000)
            data[::4096] = b"x" * len(data[::4096])

        def test_fine():
            pass
    """.replace("_|_", "_")
    )
    result = pytester.runpytest("--memwatch-report", "out")
    assert result.ret == 1
    markdown = (pytester.path / "out" / MARKDOWN_NAME).read_text()
    assert markdown.startswith("## memwatch: memory of the test suite\n")
    assert "2 tests measured; 1 failed a memory check." in markdown
    assert "| `test_markdown_report_and_github_step_summary.py::test_pipe_name` | failed |" in markdown
    assert "limit_memory FAILED |" in markdown
    assert "### `test_markdown_report_and_github_step_summary.py::test_pipe_name`: limit_memory" in markdown
    assert summary.read_text() == "earlier step\n" + markdown
    page = (pytester.path / "out" / HTML_NAME).read_text()
    assert "2 tests measured, 1 failed a memory check" in page
    assert "test_markdown_report_and_github_step_summary.py::test_pipe_name" in page
    assert "@pytest.mark.limit_memory: the test body&#39;s peak RSS exceeded its limit" in page
    result.stdout.fnmatch_lines(["memwatch: wrote $GITHUB_STEP_SUMMARY (*step_summary.md)"])
    doc = json.loads((pytester.path / "out" / JSON_NAME).read_text())
    assert doc["kind"] == "pytest_session"
    assert doc["memwatch_schema"] == 1
    failed = [t for t in doc["data"]["tests"] if t["checks"] and not t["checks"][0]["passed"]]
    assert len(failed) == 1
    assert failed[0]["checks"][0]["limit"] == 1_000_000


def test_k_and_last_failed_record_only_what_ran(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_alpha():
            pass

        def test_beta():
            assert False

        def test_gamma():
            pass
    """)
    pytester.runpytest("-p", "cacheprovider", "--memwatch")
    result = pytester.runpytest("-p", "cacheprovider", "--lf", "--memwatch", "--memwatch-report", "lf")
    result.assert_outcomes(failed=1)
    assert [r.nodeid.rsplit("::")[-1] for r in _session(pytester.path / "lf").tests] == ["test_beta"]
    assert _session(pytester.path / "lf").tests[0].outcome == "failed"
    result = pytester.runpytest("-k", "alpha or gamma", "--memwatch-report", "k")
    result.assert_outcomes(passed=2, deselected=1)
    assert sorted(r.nodeid.rsplit("::")[-1] for r in _session(pytester.path / "k").tests) == [
        "test_alpha",
        "test_gamma",
    ]


def test_history_store_gets_one_row_per_test_and_metric(pytester: pytest.Pytester) -> None:
    from memwatch.store import open_store

    pytester.makepyfile("""
        def test_one():
            pass

        def test_two():
            data = bytearray(10_000)
    """)
    url = f"sqlite:///{pytester.path / 'history.db'}"
    result = pytester.runpytest("--memwatch", "--memwatch-db", url)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["memwatch: wrote */history.db (run 1)"])
    with open_store(url) as store:
        trend = store.trend("test_history_store_gets_one_row_per_test_and_metric.py::test_two", "peak")
        assert len(trend) == 1
        duration = store.trend("test_history_store_gets_one_row_per_test_and_metric.py::test_one", "duration")
        assert len(duration) == 1
        assert duration[0].value > 0


def test_unusable_database_is_reported_not_a_traceback(pytester: pytest.Pytester) -> None:
    pytester.makefile(".db", broken="this is not a database")
    pytester.makepyfile("def test_one():\n    pass\n")
    result = pytester.runpytest("--memwatch", "--memwatch-db", "sqlite:///broken.db")
    assert result.ret == 0  # the tests passed; the store error is reported at the end
    result.stdout.fnmatch_lines(["memwatch: ERROR: *broken.db*"])
    assert "Traceback" not in result.stdout.str()
