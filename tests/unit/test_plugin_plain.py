"""plugin.recorder.plain: a record's values as the plain types xdist's channel sends."""

from __future__ import annotations

import enum
import math
import warnings

import numpy as np
import pytest

from memwatch.plugin.recorder import RecordNotSent, plain, sendable_record
from memwatch.units import Size

PLAIN = (str, int, float, bool, bytes, type(None), list, dict)


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Name(str):
    pass


class Ratio(float):
    pass


def _types(value: object) -> set[type]:
    if isinstance(value, dict):
        return {dict} | {t for k, v in value.items() for t in _types(k) | _types(v)}
    if isinstance(value, list):
        return {list} | {t for v in value for t in _types(v)}
    return {type(value)}


def test_subclasses_enums_numpy_scalars_and_tuples_become_plain() -> None:
    data = {
        "size": Size.parse("64 MiB"),
        "level": Level.HIGH,
        "colour": Colour.RED,
        "name": Name("x"),
        "ratio": Ratio(0.5),
        "i64": np.int64(7),
        "f32": np.float32(0.25),
        "flag": np.bool_(True),
        "nan": float("nan"),
        "nested": ({"k": (np.uint8(1), None)},),
        Level.HIGH: True,
    }
    out = plain(data)
    assert _types(out) <= set(PLAIN)
    assert out["size"] == 64 * 2**20
    assert type(out["size"]) is int
    assert (out["level"], out["colour"], out["name"], out["ratio"]) == (3, "red", "x", 0.5)
    assert (out["i64"], out["f32"], out["flag"]) == (7, 0.25, True)
    assert type(out["flag"]) is bool
    assert math.isnan(out["nan"])
    assert out["nested"] == [{"k": [1, None]}]
    assert out["3"] is True


@pytest.mark.parametrize("value", [object(), {1, 2}, np.array([1, 2]), 1j])
def test_anything_else_is_named_with_its_path(value: object) -> None:
    with pytest.raises(TypeError, match=r"record\.checks\[1\]\.limit holds a "):
        plain({"checks": [{}, {"limit": value}]})


def test_an_unsendable_record_is_a_warning_not_a_silent_drop() -> None:
    with pytest.warns(RecordNotSent, match=r"t\.py::t is left out .*\(gw3\).*record\.x holds"):
        assert sendable_record({"x": object()}, "t.py::t", "gw3") is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sendable_record({"x": Level.HIGH}, "t.py::t", "gw3") == {"x": 3}
