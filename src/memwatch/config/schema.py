"""Configuration from ``memwatch.yaml`` or ``[tool.memwatch]`` in ``pyproject.toml``.

Validated with pydantic; unknown keys are refused so typos surface. An error names
the file, the line (YAML) and the key::

    memwatch.yaml:7: leaks.max_growth: invalid size '12 XB': unknown unit 'XB' ...

Sizes accept ``"64 MB"`` / ``"64 MiB"`` / plain bytes; percentages ``"15%"`` or 15.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from memwatch.config.find import DEFAULT_FILES, find_config
from memwatch.errors import ConfigError
from memwatch.units import parse_duration, parse_size

__all__ = [
    "DEFAULT_FILES",
    "Config",
    "GCConfig",
    "LeakConfig",
    "PytestConfig",
    "RegressionConfig",
    "StoreConfig",
    "find_config",
    "load_config",
]


def _size(value: Any) -> int:
    return parse_size(value)


def _duration(value: Any) -> float:
    return parse_duration(value)


def _percent(value: Any) -> float:
    if isinstance(value, str) and value.strip().endswith("%"):
        value = value.strip()[:-1]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"invalid percentage {value!r}") from None
    if number < 0:
        raise ValueError(f"invalid percentage {value!r}: must be >= 0")
    return number


Size = Annotated[int, BeforeValidator(_size)]
Duration = Annotated[float, BeforeValidator(_duration)]
Percent = Annotated[float, BeforeValidator(_percent)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeverityBytes(_Section):
    """Projected growth per 1,000 operations that makes a leak minor / major / critical."""

    minor: Size = 5_000_000
    major: Size = 20_000_000
    critical: Size = 50_000_000


class LeakConfig(_Section):
    max_growth: Size = 1_000_000  # per 1,000 operations
    iterations: int | None = Field(default=None, gt=0)
    warmup: int | None = Field(default=None, ge=0)
    time_budget: Duration = 10.0
    severity: SeverityBytes = SeverityBytes()
    reset_caches: bool = True


class SeverityPercent(_Section):
    minor: Percent = 15.0
    major: Percent = 30.0
    critical: Percent = 50.0


class RegressionConfig(_Section):
    severity: SeverityPercent = SeverityPercent()
    leak_severity: SeverityBytes = SeverityBytes()
    abs_floor: Size = 1_048_576
    alpha: float = Field(default=0.05, gt=0, lt=1)
    fail_on: tuple[str, ...] = ()
    auto_update_baselines: bool = True


class GCConfig(_Section):
    pause_p95_ms: float = Field(default=100.0, gt=0)
    pause_max_ms: float | None = Field(default=None, gt=0)


class StoreConfig(_Section):
    url: str | None = None  # default: sqlite:///.memwatch/history.db


class PytestConfig(_Section):
    """Defaults of the pytest plugin's options (``[tool.memwatch.pytest]``); the command line
    and the pytest ini file win. ``record`` is ``--memwatch``, the others drop the prefix."""

    record: bool = False
    level: Literal["quick", "comprehensive", "nightly"] | None = None
    leaks: bool = False
    report: str | None = None
    db: str | None = None
    isolate: bool = False
    tracemalloc: bool = False
    summary_rows: int = Field(default=10, ge=0)
    update_baselines: bool = False


class Config(_Section):
    """The whole configuration; every section has defaults."""

    leaks: LeakConfig = LeakConfig()
    regression: RegressionConfig = RegressionConfig()
    gc: GCConfig = GCConfig()
    store: StoreConfig = StoreConfig()
    pytest: PytestConfig = PytestConfig()
    report_dir: str = "reports/memory_validation"
    level: Literal["quick", "comprehensive", "nightly"] = "quick"
    # The validation suite's sections (components and their checks) are validated by
    # memwatch.suite, which owns their meaning.
    components: list[dict[str, Any]] = Field(default_factory=list)
    checks: dict[str, Any] = Field(default_factory=dict)
    # The memory benchmark set's thresholds (``bench.thresholds.<name>``), validated by
    # memwatch.benchset, which owns their meaning.
    bench: dict[str, Any] = Field(default_factory=dict)
    source: str = ""


def load_config(path: str | os.PathLike[str] | None = None, *, search: bool = True) -> Config:
    """Load and validate a config file; defaults when there is none."""
    if path is None:
        found = find_config() if search else None
        if found is None:
            return Config()
        path = found
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    lines: dict[tuple[str, ...], int] = {}
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(text).get("tool", {}).get("memwatch", {})
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    else:
        data, lines = _load_yaml(text, str(path))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys to values")
    return validate_config(data, source=str(path), lines=lines)


def validate_config(
    data: dict[str, Any], *, source: str = "<config>", lines: dict[tuple[str, ...], int] | None = None
) -> Config:
    try:
        return Config.model_validate({**data, "source": source})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(str(part) for part in first["loc"])
        key = ".".join(loc) or "(top level)"
        line = _nearest_line(lines or {}, loc)
        where = f"{source}:{line}" if line else source
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        raise ConfigError(f"{where}: {key}: {message}") from None
    except ConfigError as exc:  # pragma: no cover - validators wrap these as ValidationError
        raise ConfigError(f"{source}: {exc}") from None


def _nearest_line(lines: dict[tuple[str, ...], int], loc: tuple[str, ...]) -> int | None:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _load_yaml(text: str, source: str) -> tuple[Any, dict[tuple[str, ...], int]]:
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}{line}: invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {exc}") from None
    lines: dict[tuple[str, ...], int] = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def _walk(node: Any, path: tuple[str, ...], out: dict[tuple[str, ...], int]) -> None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, str(key.value))
            out[sub] = key.start_mark.line + 1
            _walk(value, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            sub = (*path, str(index))
            out[sub] = value.start_mark.line + 1
            _walk(value, sub, out)
