from __future__ import annotations

import pytest

from memwatch.errors import ConfigError
from memwatch.units import Gate, format_duration, format_size, parse_duration, parse_gate, parse_size


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
