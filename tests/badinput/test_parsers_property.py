"""Every parser of user text gives a value or memwatch's own usage error, whatever the text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memwatch.config.schema import load_config
from memwatch.errors import ConfigError, MemwatchError
from memwatch.units import MAX_SIZE, parse_duration, parse_gate, parse_size

NUMBERS = st.one_of(
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.from_regex(r"\A-?[0-9]{0,400}(\.[0-9]{0,5})?(e[+-]?[0-9]{1,4})?\Z"),
)
UNITS = st.sampled_from(
    ["", "B", "kB", "KB", "KiB", "MB", "MiB", "GB", "GiB", "TB", "XB", "ms", "s", "%", " "]
)
TEXT = st.one_of(st.text(max_size=40), st.builds(lambda n, u: f"{n}{u}", NUMBERS, UNITS))


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_parse_size_gives_a_bounded_int_or_a_config_error(text: str) -> None:
    try:
        value = parse_size(text)
    except ConfigError:
        return
    assert isinstance(value, int)
    assert 0 <= value <= MAX_SIZE


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_parse_duration_gives_seconds_or_a_config_error(text: str) -> None:
    try:
        value = parse_duration(text)
    except ConfigError:
        return
    assert isinstance(value, float)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40), st.builds(lambda m, n, u: f"{m}:{n}{u}", st.text(max_size=8), NUMBERS, UNITS)
    )
)
def test_parse_gate_gives_a_gate_or_a_config_error(text: str) -> None:
    try:
        parse_gate(text)
    except ConfigError:
        return


YAML_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(
    ["leaks", "gc", "stress", "store", "pytest", "components", "checks", "levels", "bogus"]
)


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.dictionaries(KEYS, YAML_VALUES, max_size=4).map(lambda d: repr(d).encode()),
    )
)
def test_config_files_give_a_config_or_memwatchs_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    import yaml

    folder = tmp_path_factory.mktemp("cfg")
    path = folder / "memwatch.yaml"
    if data[:1] == b"{":  # a generated mapping: write it as YAML
        try:
            import ast

            path.write_text(yaml.safe_dump(ast.literal_eval(data.decode())))
        except (ValueError, SyntaxError, yaml.YAMLError, RecursionError):
            return
    else:
        path.write_bytes(data)
    try:
        load_config(Path(path))
    except MemwatchError:
        return
