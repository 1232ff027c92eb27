"""Arguments of the checking markers (``limit_memory``, ``limit_native_memory``, ``no_leaks``,
``memory_regression``, ``memory_gc``).

Checked against an allow-list; a bad value raises :class:`MarkerError` naming the test,
the marker and the value::

    tests/test_io.py::test_load: @pytest.mark.limit_memory: invalid size '12 XB': unknown unit 'XB' ...
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest

from memwatch.errors import ConfigError
from memwatch.units import parse_duration, parse_size

__all__ = [
    "LEAK_SIGNALS",
    "REGRESSION_METRICS",
    "CheckSpecs",
    "LeakSpec",
    "MarkerError",
    "parse_checks",
    "parse_checks_safely",
]

_NO_LEAKS_KEYS = ("max_growth", "iterations", "warmup", "signals", "time_budget")
_GC_KEYS = ("pause_p95_ms", "pause_max_ms")
#: the signals the leak engine reads (memwatch.config.schema.SignalName, without importing pydantic)
LEAK_SIGNALS = ("py_blocks", "native_heap", "fds", "threads", "rss")
#: the body figures memory_regression compares with their baselines (bytes)
REGRESSION_METRICS = ("peak", "growth", "python_peak", "native_peak")


class MarkerError(ConfigError):
    """A memwatch marker used with an argument it does not accept."""


@dataclass(frozen=True)
class LeakSpec:
    """``no_leaks`` arguments; None means "the engine's (or [tool.memwatch]'s) default"."""

    max_growth: int | None = None
    iterations: int | None = None
    warmup: int | None = None
    signals: tuple[str, ...] | None = None
    time_budget: float | None = None


@dataclass(frozen=True)
class CheckSpecs:
    """The checking markers of one test, parsed."""

    limit_memory: int | None = None
    limit_native_memory: int | None = None
    no_leaks: LeakSpec | None = None
    #: ``memory_regression``'s own gate expressions (None: not marked)
    regression: tuple[str, ...] | None = None
    #: ``memory_gc``'s own limits (pause p95, longest pause; ms), None where not given
    gc: tuple[float | None, float | None] | None = None

    @property
    def any(self) -> bool:
        return (
            self.limit_memory is not None
            or self.limit_native_memory is not None
            or self.no_leaks is not None
            or self.regression is not None
        )


def _fail(nodeid: str, marker: str, message: str) -> MarkerError:
    return MarkerError(f"{nodeid}: @pytest.mark.{marker}: {message}")


def _size(nodeid: str, marker: str, value: Any) -> int:
    try:
        return parse_size(value)
    except ConfigError as exc:
        raise _fail(nodeid, marker, str(exc)) from None


def _count(nodeid: str, key: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        what = "a positive whole number" if minimum > 0 else "a whole number >= 0"
        raise _fail(nodeid, "no_leaks", f"{key}={value!r}: expected {what}")
    return value


def _parse_limit(nodeid: str, marker: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    unknown = sorted(set(kwargs) - {"limit"})
    if unknown:
        raise _fail(nodeid, marker, f"unknown argument {unknown[0]!r} (it takes one: limit)")
    values = list(args) + ([kwargs["limit"]] if "limit" in kwargs else [])
    if len(values) != 1:
        raise _fail(nodeid, marker, f"expected one limit such as '64 MB', got {len(values)} values")
    return _size(nodeid, marker, values[0])


def _parse_no_leaks(nodeid: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> LeakSpec:
    if args:
        raise _fail(
            nodeid, "no_leaks", f"takes keyword arguments only ({', '.join(_NO_LEAKS_KEYS)}), got {args[0]!r}"
        )
    unknown = sorted(set(kwargs) - set(_NO_LEAKS_KEYS))
    if unknown:
        raise _fail(
            nodeid, "no_leaks", f"unknown argument {unknown[0]!r} (allowed: {', '.join(_NO_LEAKS_KEYS)})"
        )
    spec = LeakSpec()
    if kwargs.get("max_growth") is not None:
        spec = replace(spec, max_growth=_size(nodeid, "no_leaks", kwargs["max_growth"]))
    if kwargs.get("iterations") is not None:
        spec = replace(spec, iterations=_count(nodeid, "iterations", kwargs["iterations"], 1))
    if kwargs.get("warmup") is not None:
        spec = replace(spec, warmup=_count(nodeid, "warmup", kwargs["warmup"], 0))
    signals = kwargs.get("signals")
    if signals is not None:
        if isinstance(signals, str):
            signals = (signals,)
        if (
            not isinstance(signals, Sequence)
            or not signals
            or not all(isinstance(s, str) and s for s in signals)
        ):
            raise _fail(
                nodeid,
                "no_leaks",
                f"signals={signals!r}: expected signal names such as ('py_blocks', 'native_heap')",
            )
        unknown_signals = [s for s in signals if s not in LEAK_SIGNALS]
        if unknown_signals:
            raise _fail(
                nodeid,
                "no_leaks",
                f"unknown signal(s) {', '.join(map(repr, unknown_signals))} (use {', '.join(LEAK_SIGNALS)})",
            )
        spec = replace(spec, signals=tuple(signals))
    if kwargs.get("time_budget") is not None:
        budget = kwargs["time_budget"]
        try:
            seconds = parse_duration(budget)
        except ConfigError as exc:
            raise _fail(nodeid, "no_leaks", f"time_budget: {exc}") from None
        if not math.isfinite(seconds):
            raise _fail(nodeid, "no_leaks", f"time_budget={budget!r}: not a finite duration")
        spec = replace(spec, time_budget=seconds)
    return spec


def _parse_regression(nodeid: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    unknown = sorted(set(kwargs) - {"fail_on"})
    if args or unknown:
        what = f"unknown argument {unknown[0]!r}" if unknown else f"positional argument {args[0]!r}"
        raise _fail(nodeid, "memory_regression", f"{what} (it takes fail_on='peak:10%' or a list of gates)")
    gates = kwargs.get("fail_on")
    if gates is None:
        return ()
    if isinstance(gates, str):
        gates = (gates,)
    if not isinstance(gates, Sequence) or not all(isinstance(g, str) for g in gates):
        raise _fail(
            nodeid,
            "memory_regression",
            f"fail_on={gates!r}: expected gate expressions such as 'peak:10%' or 'growth:1MiB'",
        )
    from memwatch.units import parse_gate

    for gate in gates:
        try:
            metric = parse_gate(gate).metric
        except ConfigError as exc:
            raise _fail(nodeid, "memory_regression", f"fail_on: {exc}") from None
        if metric not in REGRESSION_METRICS:
            raise _fail(
                nodeid,
                "memory_regression",
                f"fail_on: {gate!r}: no metric {metric!r} here (use {', '.join(REGRESSION_METRICS)})",
            )
    return tuple(gates)


def _parse_gc(
    nodeid: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[float | None, float | None]:
    unknown = sorted(set(kwargs) - set(_GC_KEYS))
    if args or unknown:
        what = f"unknown argument {unknown[0]!r}" if unknown else f"positional argument {args[0]!r}"
        raise _fail(nodeid, "memory_gc", f"{what} (it takes {', '.join(k + '=' for k in _GC_KEYS)} in ms)")
    limits: list[float | None] = []
    for key in _GC_KEYS:
        value = kwargs.get(key)
        if value is None:
            limits.append(None)
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise _fail(nodeid, "memory_gc", f"{key}={value!r}: expected a positive number of milliseconds")
        limits.append(float(value))
    return limits[0], limits[1]


def parse_checks(item: pytest.Item) -> CheckSpecs:
    """The checking markers of ``item`` (closest marker wins); :class:`MarkerError` on bad input."""
    nodeid = item.nodeid
    limit = native = None
    leaks = None
    marker = item.get_closest_marker("limit_memory")
    if marker is not None:
        limit = _parse_limit(nodeid, "limit_memory", marker.args, marker.kwargs)
    marker = item.get_closest_marker("limit_native_memory")
    if marker is not None:
        native = _parse_limit(nodeid, "limit_native_memory", marker.args, marker.kwargs)
    marker = item.get_closest_marker("no_leaks")
    if marker is not None:
        leaks = _parse_no_leaks(nodeid, marker.args, marker.kwargs)
    marker = item.get_closest_marker("memory_regression")
    regression = None if marker is None else _parse_regression(nodeid, marker.args, marker.kwargs)
    marker = item.get_closest_marker("memory_gc")
    gc = None if marker is None else _parse_gc(nodeid, marker.args, marker.kwargs)
    return CheckSpecs(
        limit_memory=limit, limit_native_memory=native, no_leaks=leaks, regression=regression, gc=gc
    )


def parse_checks_safely(item: pytest.Item) -> tuple[CheckSpecs | None, str | None]:
    """:func:`parse_checks`, with any failure (a bug in a parser too) the test's own error:
    one bad marker never stops the session."""
    try:
        return parse_checks(item), None
    except MarkerError as exc:
        return None, str(exc)
    except Exception as exc:  # an argument no parser foresaw
        return None, f"{item.nodeid}: a memwatch marker argument cannot be used: {type(exc).__name__}: {exc}"
