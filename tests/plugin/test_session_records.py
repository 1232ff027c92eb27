"""SessionRecords: tests measured here stay raw until asked for; records from elsewhere mix in."""

from __future__ import annotations

from memwatch.model.pytest import CheckOutcome, ItemRecord
from memwatch.plugin.keys import ItemState
from memwatch.plugin.recorder import BodyFigures, SessionRecords


def _figures(peak: int, growth: int = 0) -> BodyFigures:
    return BodyFigures(duration=0.001, start_rss=50_000_000, peak=peak, growth=growth, peak_source="VmHWM")


def _records() -> SessionRecords:
    records = SessionRecords()
    records.add_measured("t.py::test_small", "passed", _figures(4096), None, "")
    checked = ItemState()
    checked.markers = ("limit_memory",)
    checked.outcomes = (CheckOutcome("limit_memory", False, 1_000_000, 9e6, "over its limit"),)
    records.add_measured("t.py::test_over", "failed", _figures(9_000_000, 100), checked, "")
    records.add(ItemRecord("t.py::test_remote", peak=7_000_000, growth=0, peak_source="VmHWM", worker="gw1"))
    records.add_measured("t.py::test_tie_b", "passed", _figures(4096), None, "")
    return records


def test_biggest_peaks_first_ties_by_node_id() -> None:
    rows = _records().biggest(3)
    assert [r.nodeid for r in rows] == ["t.py::test_over", "t.py::test_remote", "t.py::test_small"]
    assert [r.peak for r in rows] == [9_000_000, 7_000_000, 4096]


def test_failed_and_checked_count_the_verdicts() -> None:
    records = _records()
    assert records.failed() == 1
    assert [r.nodeid for r in records.checked()] == ["t.py::test_over"]
    assert len(records) == 4
    assert records.peak_source() == "VmHWM"


def test_records_are_built_on_demand_with_the_state_they_carry() -> None:
    built = {r.nodeid: r for r in _records().records()}
    over = built["t.py::test_over"]
    assert isinstance(over, ItemRecord)
    assert (over.outcome, over.peak, over.growth) == ("failed", 9_000_000, 100)
    assert over.markers == ("limit_memory",)
    assert over.failed_checks[0].message == "over its limit"
    assert built["t.py::test_remote"].worker == "gw1"
    assert list(built) == ["t.py::test_small", "t.py::test_over", "t.py::test_remote", "t.py::test_tie_b"]


def test_a_rerun_test_replaces_its_record_and_moves_to_the_end() -> None:
    records = _records()
    records.add_measured("t.py::test_small", "failed", _figures(1), None, "")
    built = records.records()
    assert [r.nodeid for r in built][-1] == "t.py::test_small"
    assert built[-1].outcome == "failed"
    assert len(records) == 4


def test_empty_session() -> None:
    records = SessionRecords()
    assert records.biggest(10) == []
    assert records.failed() == 0
    assert records.peak_source() == ""
