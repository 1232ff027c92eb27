"""expect_freed / assert_freed / ObjectWatcher on real objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from memwatch.errors import ConfigError, LeakDetected
from memwatch.leaks.watch import ObjectWatcher, assert_freed, default_watcher, expect_freed

pytestmark = pytest.mark.integration


class Request:
    def __init__(self) -> None:
        self.body = bytearray(1024)


_KEEP: list[Request] = []


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    default_watcher().clear()
    yield
    _KEEP.clear()
    default_watcher().clear()


def test_freed_object_passes() -> None:
    req = Request()
    expect_freed(req, "request")
    del req
    assert_freed()


def test_garbage_cycle_is_freed_by_the_collection() -> None:
    a, b = Request(), Request()
    a.peer, b.peer = b, a  # type: ignore[attr-defined]
    expect_freed(a)
    del a, b
    assert_freed()


def test_survivor_is_reported_with_its_path() -> None:
    req = Request()
    _KEEP.append(req)
    expect_freed(req, "request #1")
    del req
    with pytest.raises(LeakDetected) as info:
        assert_freed()
    text = str(info.value)
    assert "request #1" in text
    assert f"module {__name__}._KEEP -> list[0] -> Request" in text
    assert len(info.value.report) == 1
    assert len(default_watcher()) == 0  # a check forgets what it reported


def test_object_watcher_records() -> None:
    watcher = ObjectWatcher()
    kept, dropped = Request(), Request()
    _KEEP.append(kept)
    watcher.expect(kept, "kept")
    watcher.expect(dropped)
    del kept, dropped
    survivors = watcher.survivors()
    assert [(s.label, s.type_name) for s in survivors] == [("kept", f"{__name__}.Request")]
    assert survivors[0].retention_path is not None
    assert survivors[0].retention_path.chain[0] == f"module {__name__}._KEEP"
    assert len(watcher) == 1
    _KEEP.clear()
    gc.collect()
    assert watcher.survivors() == []
    watcher.check()


def test_default_label_names_the_type() -> None:
    watcher = ObjectWatcher()
    obj = Request()
    _KEEP.append(obj)
    watcher.expect(obj)
    assert watcher.survivors(paths=False)[0].label.startswith(f"{__name__}.Request#")


def test_objects_without_weak_references_are_refused() -> None:
    with pytest.raises(ConfigError, match="does not support weak references"):
        expect_freed([1, 2, 3])
