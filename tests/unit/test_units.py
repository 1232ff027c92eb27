from __future__ import annotations

import json
import pickle

import pytest

from memwatch.errors import ConfigError
from memwatch.units import (
    Gate,
    Size,
    exact_size,
    format_duration,
    format_size,
    format_value,
    parse_duration,
    parse_gate,
    parse_size,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("64 MB", 64_000_000),
        ("64MB", 64_000_000),
        ("64 MiB", 64 * 2**20),
        ("1.5 GiB", int(1.5 * 2**30)),
        ("1 kB", 1000),
        ("1 KiB", 1024),
        ("2 TB", 2 * 10**12),
        ("512", 512),
        ("0", 0),
        ("10 B", 10),
        ("7 bytes", 7),
        ("64M", 64 * 2**20),
        (" 3 gib ", 3 * 2**30),
        (4096, 4096),
        (1.6, 2),
    ],
)
def test_parse_size_accepts_si_and_iec(text: str | int | float, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["12 XB", "", "MB", "lots", "1 2 MB", "nan MB", "--1 MB"])
def test_parse_size_rejects_garbage_naming_the_text(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_size(bad)
    assert repr(bad) in str(info.value)


def test_parse_size_refuses_negative_unless_allowed() -> None:
    with pytest.raises(ConfigError, match="negative"):
        parse_size("-5 MB")
    assert parse_size("-5 MB", allow_negative=True) == -5_000_000


@pytest.mark.parametrize("bad", [True, None, [1], float("inf")])
def test_parse_size_rejects_wrong_types(bad: object) -> None:
    with pytest.raises(ConfigError):
        parse_size(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("nbytes", "kwargs", "expected"),
    [
        (0, {}, "0 B"),
        (1023, {}, "1023 B"),
        (1024, {}, "1.0 KiB"),
        (3_500_000, {}, "3.3 MiB"),
        (3_500_000, {"binary": False}, "3.5 MB"),
        (-2 * 2**20, {}, "-2.0 MiB"),
        (2 * 2**20, {"signed": True}, "+2.0 MiB"),
        (5 * 2**50, {}, "5120.0 TiB"),
    ],
)
def test_format_size(nbytes: int, kwargs: dict[str, bool], expected: str) -> None:
    assert format_size(nbytes, **kwargs) == expected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10ms", 0.01),
        ("2.5s", 2.5),
        ("30min", 1800.0),
        ("1h", 3600.0),
        ("250 us", 250e-6),
        ("1 day", 86400.0),
        (2, 2.0),
        ("3", 3.0),
        (0.5, 0.5),
    ],
)
def test_parse_duration(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["0", 0, "-1s", -1, "10 parsecs", "soon", ""])
def test_parse_duration_rejects_zero_negative_and_garbage(bad: str | int) -> None:
    with pytest.raises(ConfigError):
        parse_duration(bad)


def test_parse_duration_zero_allowed_on_request() -> None:
    assert parse_duration("0s", allow_zero=True) == 0.0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0000123, "12.3 µs"), (0.0123, "12.3 ms"), (1.5, "1.50 s"), (75, "1 min 15 s"), (7300, "2 h 1 min")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("peak:10%", Gate("peak", "percent", 0.10)),
        ("growth:1MiB", Gate("growth", "absolute", float(2**20))),
        (" peak : 2.5% ", Gate("peak", "percent", 0.025)),
        ("native_heap:64 MB", Gate("native_heap", "absolute", 64e6)),
    ],
)
def test_parse_gate(text: str, gate: Gate) -> None:
    assert parse_gate(text) == gate


@pytest.mark.parametrize(
    "bad", ["peak", "peak:", ":10%", "peak:ten%", "peak:-5%", "peak:12 XB", "peak:1e400%"]
)
def test_parse_gate_rejects_garbage(bad: str) -> None:
    with pytest.raises(ConfigError, match="invalid gate"):
        parse_gate(bad)


def test_gate_str_round_trips() -> None:
    assert str(parse_gate("peak:10%")) == "peak:10%"
    assert parse_gate(str(parse_gate("growth:1MiB"))) == parse_gate("growth:1MiB")


def test_infinite_percentage_says_so() -> None:
    with pytest.raises(ConfigError, match="finite number"):
        parse_gate("peak:1e400%")


MIB = 2**20


@pytest.mark.parametrize(
    ("value", "unit", "signed", "expected"),
    [
        (1.5 * MIB, "bytes", False, "1.5 MiB"),
        (-2048.0, "bytes", True, "-2.0 KiB"),
        (1_048_576.0, "bytes", True, "+1.0 MiB"),
        (137.0, "bytes/call", False, "137 B per call"),
        (137_000.0, "bytes/1000 calls", False, "133.8 KiB per 1,000 calls"),
        (0.0123, "seconds", True, "+12.3 ms"),
        (-0.5, "seconds", False, "-500.0 ms"),
        (0.0, "seconds", True, "0 s"),
        (2.5, "s", False, "2.50 s"),
        (0.123, "ms", False, "123.0 µs"),
        (0.293738, "µs", False, "293.7 ns"),
        (1234.5, "items/s", False, "1,234.5/s"),
        (42.0, "count", True, "+42"),
        (2.25, "count", False, "2.25"),
        (12.5, "percent", True, "+12.5%"),
        (1.25, "ratio", False, "1.25x"),
        (1_275_160.4, "objects/s", False, "1,275,160 objects/s"),
        (-2_500_000.0, "objects/s", True, "-2,500,000 objects/s"),
        (0.0, "", False, "0"),
        (float("nan"), "bytes", False, "–"),
        (float("inf"), "count", False, "–"),
        (None, "bytes", False, "–"),
    ],
)
def test_format_value(value: float | None, unit: str, signed: bool, expected: str) -> None:
    assert format_value(value, unit, signed=signed) == expected


@pytest.mark.parametrize(
    ("given", "nbytes", "text"),
    [
        ("100 kB", 100_000, "100 kB"),
        ("  1.5   GiB ", 3 * 2**29, "1.5 GiB"),
        ("64MiB", 64 * MIB, "64MiB"),
        (1_000_000, 1_000_000, "1 MB"),
        ("1048576", MIB, "1 MiB"),
        (1000, 1000, "1 kB"),
        (999, 999, "999 B"),
        (0, 0, "0 B"),
        (123_456, 123_456, "123.456 kB"),
        (1_234_567, 1_234_567, "1.2 MiB"),
    ],
)
def test_size_keeps_the_text_it_was_typed_as(given: str | int, nbytes: int, text: str) -> None:
    size = Size.parse(given)
    assert size == nbytes
    assert isinstance(size, int)
    assert size.text == text
    assert Size.parse(size) is size


def test_size_is_an_int_for_json_pickle_and_formatting() -> None:
    size = Size.parse("100 kB")
    assert json.dumps({"budget": size}) == '{"budget": 100000}'
    again = pickle.loads(pickle.dumps(size))
    assert (again, again.text) == (100_000, "100 kB")
    assert format_value(size, "bytes") == "100 kB"
    assert format_value(100_000, "bytes") == "97.7 KiB"
    assert parse_size(size) == 100_000
    with pytest.raises(ConfigError, match="invalid size 'lots'"):
        Size.parse("lots")


@pytest.mark.parametrize(
    ("nbytes", "text"),
    [
        (2**40, "1 TiB"),
        (5 * 10**12, "5 TB"),
        (3 * 2**30, "3 GiB"),
        (2048, "2 KiB"),
        (1500, "1.5 kB"),
        (1536, "1.5 KiB"),
        (2_500_000, "2.5 MB"),
        (1000, "1 kB"),
        (1023, "1.023 kB"),
    ],
)
def test_exact_size(nbytes: int, text: str) -> None:
    assert exact_size(nbytes) == text


def test_parse_size_takes_numpy_numbers_and_refuses_numpy_booleans() -> None:
    np = pytest.importorskip("numpy")
    assert parse_size(np.int64(64_000_000)) == 64_000_000
    assert parse_size(np.uint32(4096)) == 4096
    assert parse_size(np.float32(1024.0)) == 1024
    with pytest.raises(ConfigError, match="expected a number of bytes"):
        parse_size(np.bool_(True))
    with pytest.raises(ConfigError, match="finite"):
        parse_size(np.float64("inf"))
