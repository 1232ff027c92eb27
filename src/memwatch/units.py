"""Parse and format sizes, durations and gate expressions; the one value formatter.

Sizes follow SI and IEC exactly: ``"64 MB"`` is 64 * 10**6 bytes and ``"64 MiB"``
is 64 * 2**20 bytes. A plain integer (or a string of digits) is a byte count.
Anything else raises :class:`~memwatch.errors.ConfigError` naming the bad text.

:class:`Size` is a byte count that remembers how it was typed, so a budget given as
``"100 kB"`` is shown as ``100 kB``, not ``97.7 KiB``. :func:`format_value` formats a
figure by its unit (:data:`Unit`: bytes, seconds, counts, percentages, rates...); every
report, table and message formats numbers through it.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from typing import Literal, SupportsFloat, SupportsIndex

from memwatch.errors import ConfigError

__all__ = [
    "Gate",
    "Size",
    "Unit",
    "format_duration",
    "format_size",
    "format_value",
    "parse_duration",
    "parse_gate",
    "parse_percent",
    "parse_size",
    "parse_thresholds",
]

#: the largest byte count memwatch accepts (a signed 64-bit integer: rlimits, SQLite, JSON readers)
MAX_SIZE = 2**63 - 1
#: the longest duration memwatch accepts (about 31 years: what sleeps and timeouts can take)
MAX_DURATION = 1e9

_SIZE_UNITS: dict[str, int] = {
    "": 1,
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
    "k": 2**10,
    "m": 2**20,
    "g": 2**30,
    "t": 2**40,
}
# patterns are compiled on first use (re caches them): ``import memwatch`` stays light
_SIZE_RE = r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]*)\s*$"

_DURATION_UNITS: dict[str, float] = {
    "": 1.0,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "µs": 1e-6,
    "ns": 1e-9,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
}
_DURATION_RE = r"^\s*((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-zµ]*)\s*$"


#: numpy's boolean (``numpy.bool`` in numpy 2, ``numpy.bool_`` before), refused like ``bool``
_BOOL_TYPES = {("numpy", "bool"), ("numpy", "bool_")}


def parse_size(value: str | SupportsIndex | SupportsFloat, *, allow_negative: bool = False) -> int:
    """Return the number of bytes that ``value`` names.

    >>> parse_size("64 MB"), parse_size("64 MiB"), parse_size(512)
    (64000000, 67108864, 512)
    """
    if isinstance(value, bool) or (type(value).__module__, type(value).__name__) in _BOOL_TYPES:
        raise ConfigError(f"invalid size {value!r}: expected a number of bytes or text like '64 MiB'")
    if isinstance(value, str):
        match = re.match(_SIZE_RE, value)
        if match is None:
            raise ConfigError(
                f"invalid size {value!r}: expected a number and a unit such as '512', '64 MB' or '1.5 GiB'"
            )
        number, unit = match.groups()
        factor = _SIZE_UNITS.get(unit.lower())
        if factor is None:
            raise ConfigError(
                f"invalid size {value!r}: unknown unit {unit!r} (use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB)"
            )
        scaled = float(number) * factor
        if not math.isfinite(scaled) or abs(scaled) > MAX_SIZE:
            raise ConfigError(f"invalid size {value!r}: too large (at most 8 EiB)")
        result = round(scaled)
    elif isinstance(value, SupportsIndex):  # int, and integer types such as numpy's
        result = operator.index(value)
    elif isinstance(value, SupportsFloat):  # float, and real types such as numpy's float32
        number = float(value)
        if not math.isfinite(number) or abs(number) > MAX_SIZE:
            raise ConfigError(f"invalid size {value!r}: not a finite number of at most 8 EiB")
        result = round(number)
    else:
        raise ConfigError(f"invalid size {value!r}: expected a number of bytes or text like '64 MiB'")
    if abs(result) > MAX_SIZE:
        raise ConfigError(f"invalid size {value!r}: too large (at most 8 EiB)")
    if result < 0 and not allow_negative:
        raise ConfigError(f"invalid size {value!r}: must not be negative")
    return result


def format_size(nbytes: float, *, signed: bool = False, binary: bool = True) -> str:
    """Format a byte count for people: ``format_size(3_500_000) == '3.3 MiB'``."""
    sign = ""
    if nbytes < 0:
        sign = "-"
    elif signed:
        sign = "+"
    value = abs(float(nbytes))
    base, units = (
        (1024.0, ("B", "KiB", "MiB", "GiB", "TiB")) if binary else (1000.0, ("B", "kB", "MB", "GB", "TB"))
    )
    for unit in units:
        if value < base or unit == units[-1]:
            if unit == "B":
                return f"{sign}{value:.0f} B"
            return f"{sign}{value:.1f} {unit}"
        value /= base
    raise AssertionError("unreachable")  # pragma: no cover


def parse_duration(value: str | int | float, *, allow_zero: bool = False) -> float:
    """Return seconds: ``"250ms" -> 0.25``, ``"1h" -> 3600``, ``2 -> 2.0``."""
    if isinstance(value, bool):
        raise ConfigError(f"invalid duration {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = re.match(_DURATION_RE, value)
        if match is None:
            raise ConfigError(
                f"invalid duration {value!r}: expected a number and a unit "
                "such as '10ms', '2.5s', '30min' or '1h'"
            )
        number, unit = match.groups()
        factor = _DURATION_UNITS.get(unit if unit == "µs" else unit.lower())
        if factor is None:
            raise ConfigError(f"invalid duration {value!r}: unknown unit {unit!r}")
        seconds = float(number) * factor
    else:
        raise ConfigError(f"invalid duration {value!r}")
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not allow_zero):
        raise ConfigError(f"invalid duration {value!r}: must be a positive number of seconds")
    if seconds > MAX_DURATION:
        raise ConfigError(f"invalid duration {value!r}: too long (at most {MAX_DURATION:.0e} seconds)")
    return seconds


def parse_percent(value: str | int | float) -> float:
    """A percentage as a number: ``"12.5%" -> 12.5``, ``7 -> 7.0`` (finite, >= 0)."""
    text = value.strip().removesuffix("%") if isinstance(value, str) else value
    try:
        if isinstance(text, bool):
            raise TypeError
        number = float(text)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"invalid percentage {value!r}: expected a number such as 10 or '12.5%'") from None
    if not math.isfinite(number) or number < 0:
        raise ConfigError(f"invalid percentage {value!r}: must be a finite number >= 0")
    return number


#: what ``gc.set_threshold`` takes: one to three C ints
_MAX_THRESHOLD = 2**31 - 1


def parse_thresholds(text: str) -> tuple[int, ...]:
    """Garbage-collector thresholds ``"T0[,T1[,T2]]"``: ``"7000,10,10" -> (7000, 10, 10)``."""
    usage = f"--thresholds {text!r}: expected 1 to 3 comma-separated integers such as 7000,10,10"
    if not isinstance(text, str):
        raise ConfigError(usage)
    parts = text.split(",")
    if not 1 <= len(parts) <= 3 or not all(re.fullmatch(r"\s*[-+]?\d{1,10}\s*", part) for part in parts):
        raise ConfigError(usage)
    values = tuple(int(part) for part in parts)
    for v in values:
        if v < 0:
            raise ConfigError(f"GC threshold {v} must be a non-negative integer (0 disables that level)")
    if any(v > _MAX_THRESHOLD for v in values):
        raise ConfigError(f"--thresholds {text!r}: each threshold must be at most {_MAX_THRESHOLD}")
    return values


def format_duration(seconds: float) -> str:
    """Format seconds for people: ``0.0123 -> '12.3 ms'``, ``75 -> '1 min 15 s'``."""
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if 0 < seconds < 1e-6:
        return f"{seconds * 1e9:.1f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


@dataclass(frozen=True)
class Gate:
    """A regression gate such as ``peak:10%`` or ``growth:1MiB``.

    ``kind`` is ``"percent"`` (``threshold`` is a fraction, 0.10 for 10%) or
    ``"absolute"`` (``threshold`` is bytes).
    """

    metric: str
    kind: Literal["percent", "absolute"]
    threshold: float

    def __str__(self) -> str:
        if self.kind == "percent":
            return f"{self.metric}:{self.threshold * 100:g}%"
        return f"{self.metric}:{format_size(self.threshold)}"


_GATE_RE = r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*:\s*(.+?)\s*$"


def parse_gate(text: str) -> Gate:
    """Parse ``"peak:10%"`` or ``"growth:1MiB"`` into a :class:`Gate`."""
    match = re.match(_GATE_RE, text) if isinstance(text, str) else None
    if match is None:
        raise ConfigError(
            f"invalid gate {text!r}: expected METRIC:THRESHOLD such as 'peak:10%' or 'growth:1MiB'"
        )
    metric, threshold = match.groups()
    if threshold.endswith("%"):
        try:
            percent = float(threshold[:-1])
        except ValueError:
            raise ConfigError(f"invalid gate {text!r}: {threshold!r} is not a percentage") from None
        if not math.isfinite(percent):
            raise ConfigError(f"invalid gate {text!r}: the percentage must be a finite number")
        if percent < 0:
            raise ConfigError(f"invalid gate {text!r}: the percentage must be >= 0")
        return Gate(metric, "percent", percent / 100.0)
    try:
        size = parse_size(threshold)
    except ConfigError as exc:
        raise ConfigError(f"invalid gate {text!r}: {exc}") from None
    return Gate(metric, "absolute", float(size))


class Size(int):
    """A byte count that remembers the text it was given as.

    ``Size.parse("100 kB")`` equals 100_000 and is an ``int`` wherever one is expected;
    its :attr:`text` is ``"100 kB"``, so messages echo the budget as the user typed it.
    A size given as a number reads in the exact unit that fits (``1_000_000`` is
    ``1 MB``, ``1_048_576`` is ``1 MiB``).

    >>> b = Size.parse("100 kB"); (int(b), b.text)
    (100000, '100 kB')
    >>> Size(1_048_576).text
    '1 MiB'
    """

    _typed: str

    def __new__(cls, nbytes: int, text: str = "") -> Size:
        self = super().__new__(cls, nbytes)
        self._typed = " ".join(text.split())
        return self

    @classmethod
    def parse(cls, value: str | int | float, *, allow_negative: bool = False) -> Size:
        """:func:`parse_size`, keeping the text (a Size given in keeps its own)."""
        nbytes = parse_size(value, allow_negative=allow_negative)
        if isinstance(value, Size):
            return value
        return cls(nbytes, value if isinstance(value, str) and not value.strip().isdigit() else "")

    @property
    def typed(self) -> str:
        """The text the size was given as ("" when it was given as a number)."""
        return self._typed

    @property
    def text(self) -> str:
        """The size as typed, else in the exact unit that fits."""
        return self._typed or exact_size(int(self))

    def __reduce__(self) -> tuple[type[Size], tuple[int, str]]:
        return (Size, (int(self), self._typed))


def exact_size(nbytes: int) -> str:
    """A byte count in the SI or IEC unit that holds it exactly as 1 to 999.999 units
    (``"100 kB"``, ``"1.5 kB"``, ``"64 MiB"``, ``"999 B"``), else :func:`format_size`."""
    if abs(nbytes) < 1000:
        return f"{nbytes} B"
    for factor, unit in (
        (2**40, "TiB"),
        (10**12, "TB"),
        (2**30, "GiB"),
        (10**9, "GB"),
        (2**20, "MiB"),
        (10**6, "MB"),
        (2**10, "KiB"),
        (10**3, "kB"),
    ):
        fits = factor <= abs(nbytes) < 1000 * factor or unit in ("TiB", "TB")
        if fits and (nbytes * 1000) % factor == 0:
            number = f"{nbytes / factor:,.3f}".rstrip("0").rstrip(".")
            return f"{number} {unit}"
    return format_size(nbytes)


#: The units :func:`format_value` knows. Any other text is printed after the number
#: (``"objects/s"``), so units stored in a history database still read well.
Unit = Literal[
    "bytes",
    "bytes/call",
    "bytes/1000 calls",
    "seconds",
    "ms",
    "µs",
    "ns",
    "count",
    "percent",
    "ratio",
    "items/s",
    "",
]
_TIME_UNITS: dict[str, float] = {"seconds": 1.0, "s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}


def _number(value: float, signed: bool) -> str:
    sign = "+" if signed else ""
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:{sign},.0f}"
    return f"{value:{sign}.4g}"


def format_value(value: float | None, unit: str = "", *, signed: bool = False) -> str:
    """A figure for people, by its unit; ``signed`` shows ``+`` on increases.

    ``None``, NaN and infinities read ``–``. Bytes in B/KiB/MiB/GiB (a :class:`Size`
    as it was typed); times (``seconds``, ``ms``, ``µs``, ``ns``) as ns/µs/ms/s/min;
    ``count`` as a whole number with separators; ``percent`` as ``12.5%``; ``ratio``
    as ``1.25x``; ``items/s`` as ``1,234.5/s``; any other unit after the number.

    >>> format_value(137, "bytes/call"), format_value(0.0123, "seconds", signed=True)
    ('137 B per call', '+12.3 ms')
    >>> format_value(1_275_160.4, "objects/s"), format_value(3, "count", signed=True)
    ('1,275,160 objects/s', '+3')
    """
    if value is None or not math.isfinite(value):
        return "–"
    if unit in ("bytes", "B"):
        if isinstance(value, Size) and value._typed:
            return ("+" if signed and value > 0 else "") + value._typed
        return format_size(value, signed=signed)
    if unit == "bytes/call":
        return f"{format_size(value, signed=signed)} per call"
    if unit == "bytes/1000 calls":
        return f"{format_size(value, signed=signed)} per 1,000 calls"
    if unit in _TIME_UNITS:
        if value == 0:
            return "0 s"
        sign = "-" if value < 0 else "+" if signed else ""
        return sign + format_duration(abs(value) * _TIME_UNITS[unit])
    if unit == "count":
        return _number(value, signed)
    if unit in ("percent", "%"):
        return f"{value:{'+' if signed else ''}.3g}%"
    if unit == "ratio":
        return f"{value:.3g}x"
    if unit == "items/s":
        return f"{value:{'+' if signed else ''},.1f}/s"
    text = _number(value, signed)
    return f"{text} {unit}" if unit else text
