"""memwatch.snapshots on real allocations, and the memory_snapshots fixture."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from memwatch.errors import UsageError
from memwatch.snapshots import (
    compare_snapshots,
    history,
    most_common_types,
    plot_snapshots,
    stop,
    take_snapshot,
    top_allocations,
    type_growth,
)

pytestmark = pytest.mark.integration
MIB = 2**20


class Widget:
    pass


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    stop()
    yield
    stop()
    assert not tracemalloc.is_tracing()


def test_top_and_compare_find_the_growing_line(tmp_path: Path) -> None:
    a = take_snapshot("empty")
    blocks = [bytearray(64 * 1024) for _ in range(160)]  # 10 MiB on this line
    b = take_snapshot("filled")
    top = top_allocations(b, limit=3)
    assert top[0].where.endswith(f"{__file__}:{_line_of('blocks = [bytearray')}")
    assert 10 * MIB <= top[0].size < 11 * MIB
    growth = compare_snapshots(a, b, limit=1)[0]
    assert growth.where == top[0].where
    assert growth.size_diff >= 10 * MIB
    assert growth.count_diff >= 160
    by_file = compare_snapshots(a, b, by="file", limit=1)[0]
    assert by_file.where == __file__
    del blocks
    c = take_snapshot("freed")
    assert compare_snapshots(b, c, limit=None)[-1].size_diff <= -10 * MIB
    assert [p.label for p in history()] == ["empty", "filled", "freed"]
    assert history()[1].traced - history()[0].traced >= 10 * MIB
    png = plot_snapshots(history(), tmp_path / "snaps.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_traceback_grouping_names_the_caller() -> None:
    take_snapshot("start", frames=8)
    stop()
    take_snapshot("start", frames=8)
    data = _make()
    b = take_snapshot("made")
    site = top_allocations(b, by="traceback", limit=1)[0]
    assert len(site.traceback) >= 2
    assert any(f":{_line_of('data = _make()')}" in frame for frame in site.traceback)
    del data


def _make() -> list[bytearray]:
    return [bytearray(1 * MIB) for _ in range(8)]


def test_object_counts_and_growth() -> None:
    type_growth()
    widgets = [Widget() for _ in range(3000)]
    grown = {t.name: t for t in type_growth(limit=None)}
    assert grown["Widget"].growth == 3000
    assert "Widget" not in {t.name for t in type_growth(limit=None)}  # nothing new since
    counts = {t.name: t.count for t in most_common_types(limit=None)}
    assert counts["Widget"] >= 3000
    del widgets


@pytest.mark.parametrize(("kwargs", "message"), [({"by": "module"}, "by='module'"), ({"limit": 0}, "limit")])
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    snap = take_snapshot()
    with pytest.raises(UsageError, match=message):
        top_allocations(snap, **kwargs)  # type: ignore[arg-type]


def test_plot_needs_snapshots_and_a_known_suffix(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no snapshots"):
        plot_snapshots([], tmp_path / "x.png")
    take_snapshot("one")
    with pytest.raises(UsageError, match=r"\.png"):
        plot_snapshots(history(), tmp_path / "x.txt")


def test_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import tracemalloc

        class Session:
            pass

        def test_growth(memory_snapshots, tmp_path):
            before = memory_snapshots.take("before")
            kept = [bytearray(2**20) for _ in range(12)]
            sessions = [Session() for _ in range(500)]
            after = memory_snapshots.take("after")
            top = memory_snapshots.compare(before, after, limit=1)[0]
            assert top.size_diff >= 12 * 2**20
            grown = {t.name: t.growth for t in memory_snapshots.type_growth()}
            assert grown["Session"] == 500
            assert memory_snapshots.plot(tmp_path / "m.png").exists()

        def test_tracemalloc_was_stopped_after():
            assert not tracemalloc.is_tracing()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def _line_of(text: str) -> int:
    lines = Path(__file__).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line and "_line_of" not in line)
