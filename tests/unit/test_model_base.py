from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from memwatch.errors import DataError, UsageError
from memwatch.model.base import (
    SCHEMA_VERSION,
    Record,
    atomic_write_text,
    dump_document,
    load_document,
    read_document,
    register_kind,
    write_document,
)
from memwatch.model.timeline import Phase, PhaseStats, RunResult, Timeline


@dataclass(frozen=True)
class Inner(Record):
    name: str
    value: float


@register_kind("test_outer")
@dataclass(frozen=True, eq=False)
class Outer(Record):
    items: tuple[Inner, ...]
    counts: dict[str, int]
    maybe: float | None
    samples: np.ndarray
    tags: list[str] = field(default_factory=list)
    flag: bool = False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Outer) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def make_outer() -> Outer:
    return Outer(
        items=(Inner("a", 1.5), Inner("b", float("nan"))),
        counts={"x": 3},
        maybe=None,
        samples=np.array([1.0, 2.5, float("inf")]),
        tags=["t"],
        flag=True,
    )


def test_round_trip_keeps_nested_types_arrays_and_non_finite_floats() -> None:
    original = make_outer()
    text = json.dumps(dump_document(original), allow_nan=False)  # valid strict JSON
    loaded = load_document(json.loads(text), expected=Outer)
    assert isinstance(loaded.items[0], Inner)
    assert math.isnan(loaded.items[1].value)
    assert isinstance(loaded.samples, np.ndarray)
    assert loaded.samples[2] == float("inf")
    assert loaded == original


def test_unknown_schema_version_is_refused_with_both_versions() -> None:
    doc = dump_document(make_outer())
    doc["memwatch_schema"] = SCHEMA_VERSION + 1
    expected = f"schema version {SCHEMA_VERSION + 1}.*reads version {SCHEMA_VERSION}"
    with pytest.raises(DataError, match=expected):
        load_document(doc)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"hello": 1}, "not a memwatch result file"),
        ([1, 2], "not a memwatch result file"),
        ({"memwatch_schema": SCHEMA_VERSION, "kind": "nope", "data": {}}, "unknown result kind"),
        ({"memwatch_schema": SCHEMA_VERSION, "kind": "test_outer", "data": {"items": []}}, "missing field"),
        (
            {
                "memwatch_schema": SCHEMA_VERSION,
                "kind": "test_outer",
                "data": {"items": [], "counts": {}, "maybe": "x", "samples": []},
            },
            "maybe",
        ),
        (
            {
                "memwatch_schema": SCHEMA_VERSION,
                "kind": "test_outer",
                "data": {"items": [], "counts": {"a": "b"}, "maybe": None, "samples": []},
            },
            "integer",
        ),
    ],
)
def test_malformed_documents_raise_data_error(doc: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        load_document(doc)


def test_expected_kind_is_enforced() -> None:
    doc = dump_document(make_outer())
    with pytest.raises(DataError, match="expected 'run'"):
        load_document(doc, expected=RunResult)


def test_write_and_read_document(tmp_path: Path) -> None:
    path = write_document(make_outer(), tmp_path / "out.json")
    text = path.read_text()
    assert json.loads(text)["kind"] == "test_outer"
    # keys are sorted so diffs stay stable
    assert text.index('"data"') < text.index('"kind"') < text.index('"memwatch_schema"')
    assert read_document(path, expected=Outer) == make_outer()
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temp file left behind


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), ("{not json", "corrupt JSON at line 1"), (b"\xff\xfe\x00", "binary")],
)
def test_read_document_bad_files(tmp_path: Path, content: str | bytes | None, message: str) -> None:
    path = tmp_path / "run.json"
    if isinstance(content, str):
        path.write_text(content)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_document(path)


def test_read_document_on_a_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is a directory"):
        read_document(tmp_path)


def test_atomic_write_refuses_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        atomic_write_text(tmp_path / "nope" / "x.json", "{}")


def test_atomic_write_keeps_old_content_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "keep.json"
    target.write_text("old")

    with pytest.raises(TypeError):
        atomic_write_text(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]


def test_timeline_run_result_round_trip(tmp_path: Path) -> None:
    timeline = Timeline(
        t=np.array([0.0, 0.01, 0.02]),
        signals={"rss": np.array([1e6, 2e6, float("nan")]), "py_blocks": np.array([1.0, 2.0, 3.0])},
        units={"rss": "bytes", "py_blocks": "count"},
        phases=(Phase("load", 0.0, 0.02), Phase("inner", 0.01, None, depth=1)),
        late_samples=1,
    )
    stats = (PhaseStats("load", 0.0, 0.02, 0.02, 1e6, 2e6, 2e6, 1e6, 1e6, 3),)
    run = RunResult(
        timeline=timeline,
        phase_stats=stats,
        primary_signal="rss",
        peak=2e6,
        start_memory=1e6,
        end_memory=2e6,
        growth=1e6,
        duration=0.02,
        command=("python", "job.py"),
        exit="signal",
        signal=9,
    )
    path = write_document(run, tmp_path / "run.json")
    loaded = read_document(path, expected=RunResult)
    assert loaded == run
    assert loaded.timeline.phases[1].end is None
    assert len(loaded.timeline) == 3
    assert loaded.timeline.duration == pytest.approx(0.02)
    with pytest.raises(KeyError, match="py_blocks"):
        loaded.timeline.signal("nope")


def test_atomic_write_refuses_a_directory_target(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(UsageError, match="it is a directory"):
        atomic_write_text(tmp_path / "d", "x")
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_atomic_writes_honour_the_umask_and_keep_a_replaced_files_mode(tmp_path: Path) -> None:
    import os

    from memwatch.model.base import atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "report.md", "one\n")
        assert (tmp_path / "report.md").stat().st_mode & 0o777 == 0o644
        os.umask(0o077)
        atomic_write_text(tmp_path / "private.json", "{}\n")
        assert (tmp_path / "private.json").stat().st_mode & 0o777 == 0o600
        os.umask(0o002)
        (tmp_path / "report.md").chmod(0o640)  # the user's choice survives a rewrite
        atomic_write_text(tmp_path / "report.md", "two\n")
        assert (tmp_path / "report.md").stat().st_mode & 0o777 == 0o640
        assert (tmp_path / "report.md").read_text() == "two\n"
    finally:
        os.umask(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["private.json", "report.md"]
