"""The options layer: explicit > door > config file > schema defaults, one resolver per engine."""

from __future__ import annotations

import subprocess
import sys

import pytest

from memwatch.config.options import gc_options, leak_options, regression_options, stress_options
from memwatch.config.schema import Config, validate_config
from memwatch.errors import ConfigError

FILE = validate_config(
    {
        "leaks": {
            "max_growth": "4 KiB",
            "iterations": 300,
            "time_budget": "2s",
            "severity": {"minor": "1 MB"},
        },
        "gc": {"iterations": 50, "pause_p95_ms": 20, "pause_max_ms": 80},
        "regression": {"samples": {"quick": 3, "nightly": 30}, "batch": 4},
        "stress": {"limit": "64 MiB", "duration": "5s"},
    }
)


@pytest.mark.parametrize(
    ("explicit", "door", "config", "key", "value"),
    [
        (None, None, None, "max_growth", 1_000_000),  # the schema's default
        (None, None, FILE, "max_growth", 4096),  # the file over the default
        (None, {"max_growth": "2 kB"}, FILE, "max_growth", 2000),  # the door over the file
        ({"max_growth": 10}, {"max_growth": "2 kB"}, FILE, "max_growth", 10),  # explicit over all
        ({"max_growth": None}, {"max_growth": None}, FILE, "max_growth", 4096),  # None: not given
        (None, None, FILE, "iterations", 300),
        (None, {"iterations": 7}, FILE, "iterations", 7),
        (None, None, None, "iterations", None),  # adaptive
        (None, {"time_budget": "250ms"}, FILE, "time_budget", 0.25),
        (None, None, FILE, "time_budget", 2.0),
        (None, None, None, "reset_caches", True),
        (None, {"reset_caches": False}, None, "reset_caches", False),
        (None, {"signals": ["py_blocks"]}, None, "signals", ("py_blocks",)),
    ],
)
def test_leak_options_precedence(
    explicit: dict[str, object] | None,
    door: dict[str, object] | None,
    config: Config | None,
    key: str,
    value: object,
) -> None:
    assert getattr(leak_options(explicit, door, config), key) == value


def test_severity_merges_level_by_level() -> None:
    assert leak_options(config=FILE).severity == {
        "minor": 1_000_000,
        "major": 20_000_000,
        "critical": 50_000_000,
    }
    door = leak_options(door={"severity": {"major": "3 MB"}}, config=FILE)
    assert door.severity == {"minor": 1_000_000, "major": 3_000_000, "critical": 50_000_000}
    explicit = leak_options({"severity": {"minor": 2_000_000}}, {"severity": {"minor": 1}}, FILE)
    assert explicit.severity["minor"] == 2_000_000


def test_base_stands_in_for_the_file() -> None:
    base = leak_options(config=FILE)
    assert leak_options(base=base) == base
    assert leak_options({"iterations": 5}, base=base).iterations == 5
    assert leak_options({"iterations": 5}, base=base).max_growth == 4096


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: leak_options({"max_grwth": 1}),
            r"unknown option 'max_grwth' \(did you mean 'max_growth'\?\)",
        ),
        (lambda: leak_options(door={"max_growth": "12 XB"}), "invalid size '12 XB'"),
        (lambda: leak_options(door={"time_budget": "soon"}), "invalid duration"),
        (lambda: leak_options(door={"severity": {"huge": "1 MB"}}), "unknown severity level"),
        (lambda: leak_options(door={"severity": {"minor": "90 MB"}}), "severity thresholds must grow"),
        (lambda: leak_options(door={"signals": "py_blocks"}), "signals must be a list"),
        (lambda: gc_options(door={"thresholds": {"max_pause": 3}}), "unknown option 'max_pause'"),
        (lambda: gc_options(door={"iteratons": 3}), r"did you mean 'iterations'"),
        (lambda: stress_options(door={"limit": "lots"}), "invalid size"),
    ],
)
def test_bad_options_are_config_errors(call: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        call()  # type: ignore[operator]


def test_gc_options_merge_limits_name_by_name() -> None:
    assert gc_options().iterations == 1000
    assert gc_options().thresholds["max_pause_p95_ms"] == 100.0
    assert gc_options().thresholds["max_uncollectable"] == 0
    options = gc_options(door={"thresholds": {"max_pause_p95_ms": 5}}, config=FILE)
    assert options.iterations == 50
    assert options.thresholds["max_pause_p95_ms"] == 5
    assert options.thresholds["max_pause_ms"] == 80  # from the file


def test_regression_samples_by_level() -> None:
    assert regression_options(level="quick").samples == 5
    assert regression_options(level="nightly").samples == 15
    assert regression_options(config=FILE, level="nightly").samples == 30
    assert regression_options(config=FILE, level="quick").batch == 4
    assert regression_options(door={"samples": 9}, config=FILE, level="quick").samples == 9


def test_stress_options() -> None:
    assert stress_options().limit == 512 * 2**20
    assert stress_options().timeout == 300.0
    assert stress_options(config=FILE).limit == 64 * 2**20
    assert stress_options(door={"duration": "1s"}, config=FILE).duration == 1.0


def test_importing_the_options_layer_does_not_import_pydantic() -> None:
    code = "import sys, memwatch.config.options; print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
