"""pytest-xdist: workers measure, the controller alone writes; no record lost or counted twice."""

from __future__ import annotations

import pytest

from memwatch.model.base import read_document
from memwatch.model.pytest import PytestSession
from memwatch.plugin.report import JSON_NAME


@pytest.mark.slow
def test_xdist_workers_send_records_to_the_controller(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_many="""
        import pytest

        @pytest.mark.parametrize("i", range(12))
        def test_small(i):
            data = bytearray(1000 * i)

        @pytest.mark.limit_memory("5 MB")
        def test_over_budget():
            data = bytearray(40_000_000)
            data[::4096] = b"x" * len(data[::4096])

        @pytest.mark.no_leaks(max_growth="1 KiB")
        def test_clean_loop():
            scratch = [1, 2, 3]

        class TestInClass:
            def test_method(self):
                pass
    """
    )
    result = pytester.runpytest_subprocess(
        "-n", "2", "--memwatch", "--memwatch-report", "out", "--memwatch-summary-rows", "3"
    )
    result.assert_outcomes(passed=14, failed=1)
    session = read_document(pytester.path / "out" / JSON_NAME, expected=PytestSession)
    ids = [r.nodeid for r in session.tests]
    assert len(ids) == 15
    assert len(set(ids)) == 15
    assert {r.worker for r in session.tests} <= {"gw0", "gw1"}
    assert session.workers >= 1
    over = session.record("test_many.py::test_over_budget")
    assert over.outcome == "failed"
    assert not over.checks[0].passed
    assert over.checks[0].check == "limit_memory"
    assert session.record("test_many.py::test_clean_loop").checks[0].passed
    result.stdout.fnmatch_lines(
        [
            "*= memwatch =*",
            "test_many.py::test_over_budget *limit_memory FAILED",
            "15 tests measured (*); 1 failed a memory check",
            "memwatch: wrote */out/memwatch-pytest.json",
        ]
    )
    # only the controller wrote: one table, one set of files
    assert result.stdout.str().count("tests measured") == 1
    assert sorted(p.name for p in (pytester.path / "out").iterdir()) == [
        "memwatch-pytest.html",
        "memwatch-pytest.json",
        "memwatch-pytest.md",
    ]


@pytest.mark.slow
def test_xdist_with_markers_only(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.limit_memory("12 XB")
        def test_bad_marker():
            pass

        @pytest.mark.limit_memory("1 MB")
        def test_over():
            data = bytearray(30_000_000)
            data[::4096] = b"x" * len(data[::4096])

        def test_plain():
            pass
    """)
    result = pytester.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["memwatch usage error: *::test_bad_marker: @pytest.mark.limit_memory: invalid size '12 XB'*"]
    )
    result.stdout.fnmatch_lines(["@pytest.mark.limit_memory: the test body's peak RSS exceeded its limit"])


@pytest.mark.slow
def test_xdist_sends_records_holding_subclasses_and_warns_about_the_unsendable(
    pytester: pytest.Pytester,
) -> None:
    # The worker -> controller channel (execnet) sends only plain types: an IntEnum or an
    # int subclass given to a marker used to stop the worker. A value that cannot become
    # a plain one (injected here into one record) is a visible warning, the others arrive.
    pytester.makeconftest("""
        import memwatch.model.pytest as model

        _to_dict = model.ItemRecord.to_dict

        def to_dict(self):
            data = _to_dict(self)
            if self.nodeid.endswith("test_unsendable"):
                data["profile"] = {"handle": object()}
            return data

        model.ItemRecord.to_dict = to_dict
    """)
    pytester.makepyfile(
        test_kinds="""
        import enum
        import pytest
        from memwatch.units import Size

        class Bytes(int):
            pass

        class Limit(enum.IntEnum):
            BIG = 500_000_000

        @pytest.mark.limit_memory(Limit.BIG)
        def test_enum():
            pass

        @pytest.mark.limit_memory(Bytes(400_000_000))
        def test_int_subclass():
            pass

        @pytest.mark.limit_memory(Size.parse("300 MB"))
        def test_size():
            pass

        @pytest.mark.limit_memory("1 MB")
        def test_over():
            data = bytearray(30_000_000)
            data[::4096] = b"x" * len(data[::4096])

        def test_unsendable():
            pass
    """
    )
    result = pytester.runpytest_subprocess(
        "-n", "2", "--memwatch", "--memwatch-report", "out", "-p", "no:randomly"
    )
    result.assert_outcomes(passed=4, failed=1)
    assert "INTERNALERROR" not in result.stdout.str()
    session = read_document(pytester.path / "out" / JSON_NAME, expected=PytestSession)
    limits = {r.nodeid.split("::")[1]: [c.limit for c in r.checks] for r in session.tests}
    assert limits == {
        "test_enum": [500_000_000],
        "test_int_subclass": [400_000_000],
        "test_size": [300_000_000],
        "test_over": [1_000_000],
    }
    result.stdout.fnmatch_lines(
        [
            "*RecordNotSent: memwatch: the record of test_kinds.py::test_unsendable is left out of "
            "the report (gw*): record.profile.handle holds a builtins.object, which cannot be sent",
        ]
    )
