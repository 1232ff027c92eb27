"""Every parser of user text gives a value or memwatch's own usage error, whatever the text."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memwatch.config.schema import load_config
from memwatch.errors import ConfigError, UsageError
from memwatch.plugin import specs
from memwatch.units import (
    MAX_SIZE,
    Size,
    parse_duration,
    parse_gate,
    parse_percent,
    parse_size,
    parse_thresholds,
)

USER_ERRORS = (ConfigError, UsageError)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        ["1e400", "-1e400", "1e308", "nan", "inf", "99999999999999999999", "0", "-0", ".5", "1."]
    ),
).map(str)
units = st.sampled_from(["", "B", "kB", "MB", "GB", "TiB", "k", "XB", "s", "ms", "h", "min", "µs", "%", "d"])
texts = st.one_of(
    st.text(max_size=40),
    st.builds(lambda n, sp, u: f"{n}{sp}{u}", numbers, st.sampled_from(["", " ", "  "]), units),
)
values: st.SearchStrategy[Any] = st.one_of(
    texts,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
)


def _outcome(parse: Any, value: Any) -> Any:
    try:
        return parse(value)
    except USER_ERRORS as exc:
        error = exc
    message = str(error)
    assert message
    assert "\n" not in message  # one line
    return error


@FAST
@given(values)
def test_size(value: Any) -> None:
    result = _outcome(parse_size, value)
    if isinstance(result, int):
        assert 0 <= result <= MAX_SIZE
    typed = _outcome(Size.parse, value)
    assert isinstance(typed, Size | ConfigError)


@FAST
@given(values)
def test_duration(value: Any) -> None:
    result = _outcome(parse_duration, value)
    if isinstance(result, float):
        assert math.isfinite(result)
        assert 0 < result <= 1e9


@FAST
@given(values)
def test_percent(value: Any) -> None:
    result = _outcome(parse_percent, value)
    if isinstance(result, float):
        assert math.isfinite(result)
        assert result >= 0


@FAST
@given(st.one_of(texts, st.lists(numbers, min_size=1, max_size=4).map(",".join)))
def test_thresholds(value: str) -> None:
    result = _outcome(parse_thresholds, value)
    if isinstance(result, tuple):
        assert 1 <= len(result) <= 3
        assert all(0 <= t < 2**31 for t in result)


@FAST
@given(st.one_of(values, st.builds(lambda m, t: f"{m}:{t}", st.sampled_from(["peak", "growth", "x"]), texts)))
def test_gate(value: Any) -> None:
    result = _outcome(parse_gate, value)
    if not isinstance(result, ConfigError):
        assert math.isfinite(result.threshold)
        assert result.threshold >= 0


kwargs_values = st.dictionaries(
    st.sampled_from(
        [
            "max_growth",
            "iterations",
            "warmup",
            "signals",
            "time_budget",
            "fail_on",
            "limit",
            "pause_p95_ms",
            "pause_max_ms",
            "bogus",
        ]
    ),
    values,
    max_size=3,
)


@FAST
@given(st.lists(values, max_size=2).map(tuple), kwargs_values)
def test_marker_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for parse in (
        lambda: specs._parse_limit("t.py::t", "limit_memory", args, kwargs),
        lambda: specs._parse_no_leaks("t.py::t", args, kwargs),
        lambda: specs._parse_regression("t.py::t", args, kwargs),
        lambda: specs._parse_gc("t.py::t", args, kwargs),
    ):
        result = _outcome(lambda _: parse(), None)
        if isinstance(result, ConfigError):
            assert str(result).startswith("t.py::t: @pytest.mark.")


def _nested(depth: int, text: str) -> str:
    return "[" * depth + text + "]" * depth


yaml_docs = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.builds(
        lambda key, sub, value: f"{key}:\n  {sub}: {value}\n".encode("utf-8", "surrogatepass"),
        st.sampled_from(["leaks", "gc", "stress", "store", "components", "pytest", "bogus"]),
        st.sampled_from(["max_growth", "iterations", "pause_p95_ms", "limit", "url", "x"]),
        texts,
    ),
    st.integers(min_value=1, max_value=6000).map(lambda d: f"leaks: {_nested(d, '1')}\n".encode()),
    st.integers(min_value=1, max_value=3000).map(
        lambda d: b"x:\n" + b"".join(b" " * i + b"y:\n" for i in range(1, d))
    ),
    st.just(b"a: &a [*a]\n"),
)
toml_docs = st.one_of(
    st.binary(max_size=200).map(lambda b: b"[tool.memwatch]\n" + b),
    st.builds(
        lambda sub, value: f'[tool.memwatch.leaks]\n{sub} = "{value}"\n'.encode("utf-8", "surrogatepass"),
        st.sampled_from(["max_growth", "iterations", "bogus"]),
        texts.map(lambda t: t.replace('"', "").replace("\\", "")),
    ),
    st.integers(min_value=1, max_value=6000).map(
        lambda d: f"[tool.memwatch]\nx = {_nested(d, '1')}\n".encode()
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(yaml_docs.map(lambda b: ("memwatch.yaml", b)), toml_docs.map(lambda b: ("pyproject.toml", b)))
)
def test_config_files(tmp_path: Path, doc: tuple[str, bytes]) -> None:
    name, data = doc
    path = tmp_path / name
    path.write_bytes(data)
    result = _outcome(load_config, path)
    if isinstance(result, ConfigError):
        assert str(result).startswith(str(path))


@pytest.mark.parametrize("text", ["1e400GB", "-1e400 MB", "9" * 400, "1e19"])
def test_overflowing_sizes_are_named(text: str) -> None:
    with pytest.raises(ConfigError, match="invalid size"):
        parse_size(text)
