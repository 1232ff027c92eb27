"""Configuration from ``memwatch.yaml`` or ``[tool.memwatch]`` in ``pyproject.toml``.

Validated with pydantic before anything runs; unknown keys are refused at every depth
(inside components and check blocks too). An error is one line naming the file, the
line, the key and, for a typo, the closest known name::

    memwatch.yaml:7: leaks.max_growth: invalid size '12 XB': unknown unit 'XB' ...
    memwatch.yaml:12: components[0].opration: unknown key (did you mean 'operation'?)

This module is the only home of memwatch's defaults: :mod:`memwatch.config.options`
merges them with the file, the door (command line, marker, check block) and explicit
arguments.

Sizes accept ``"64 MB"`` / ``"64 MiB"`` / plain bytes; percentages ``"15%"`` or 15.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from memwatch.config.find import DEFAULT_FILES, find_config, read_config_text, tool_memwatch
from memwatch.errors import ConfigError
from memwatch.units import parse_duration, parse_gate, parse_percent, parse_size

__all__ = [
    "CHECK_BLOCKS",
    "DEFAULT_FILES",
    "LEVELS",
    "BenchCheck",
    "ChecksConfig",
    "ComponentConfig",
    "Config",
    "FailOn",
    "GCCheck",
    "GCConfig",
    "GCLimits",
    "LeakCheck",
    "LeakConfig",
    "PytestConfig",
    "RegressionCheck",
    "RegressionConfig",
    "SeverityBytes",
    "StoreConfig",
    "StressCheck",
    "StressConfig",
    "did_you_mean",
    "find_config",
    "key_text",
    "load_config",
    "validate_config",
]


def _size(value: Any) -> int:
    return parse_size(value)


def _duration(value: Any) -> float:
    return parse_duration(value)


def _percent(value: Any) -> float:
    return parse_percent(value)


Level = Literal["quick", "comprehensive", "nightly"]
LEVELS: tuple[Level, ...] = ("quick", "comprehensive", "nightly")
#: what fails a validation check: its own budget (``max_growth``, GC limits, stress targets, bench
#: thresholds, regression gates), a severity and above, or nothing (advisory)
FailOn = Literal["budget", "trace", "minor", "major", "critical", "never"]
SignalName = Literal["py_blocks", "native_heap", "fds", "threads", "rss"]
ScenarioName = Literal["ramp", "spike", "fragmentation", "concurrent", "soak"]


def _whole(low: int) -> Any:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number >= {low}, got {value!r}")
        if value < low:
            raise ValueError(f"{value} is out of range: use a whole number >= {low}")
        return value

    return check


def _per_level(parse: Any) -> Any:
    """One value for every level, or a mapping of level -> value (``{quick: 200, nightly: 5000}``)."""

    def check(value: Any) -> Any:
        if isinstance(value, dict):
            for level in value:
                if level not in LEVELS:
                    raise ValueError(
                        f"unknown level {level!r}{did_you_mean(str(level), LEVELS)}; "
                        f"levels are {', '.join(LEVELS)}"
                    )
            return {level: parse(v) for level, v in value.items()}
        return parse(value)

    return check


def _target(value: Any) -> str:
    if not isinstance(value, str) or ":" not in value or value.startswith(":") or value.endswith(":"):
        raise ValueError(f"{value!r} is not an import path like 'pkg.module:function'")
    return value


def _metric_name(value: Any) -> str:
    if not isinstance(value, str) or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", value) is None:
        raise ValueError(f"{value!r} is not a metric name such as 'peak' or 'ops_per_second'")
    return value


def _gate(value: Any) -> str:
    parse_gate(value)  # ConfigError is a ValueError: pydantic reports it at the key
    return str(value)


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValueError(f"expected a list of component names, got {value!r}")
    if any(not isinstance(name, str) or not name for name in value):
        raise ValueError(f"component names must be non-empty text, got {value!r}")
    return tuple(value)


def _level_markers(value: Any) -> dict[str, tuple[str, ...]]:
    """``pytest.levels``: level -> the markers whose tests run from that level up."""
    if not isinstance(value, dict):
        raise ValueError(
            f"expected a table of level -> list of markers, e.g. {{quick: [oom]}}, got {value!r}"
        )
    seen: dict[str, str] = {}
    for level, names in value.items():
        if level not in LEVELS:
            raise ValueError(
                f"unknown level {level!r}{did_you_mean(str(level), LEVELS)}; levels are {', '.join(LEVELS)}"
            )
        if isinstance(names, str) or not isinstance(names, list | tuple):
            raise ValueError(f"{level}: expected a list of marker names, got {names!r}")
        for name in names:
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"{level}: {name!r} is not a marker name")
            if seen.get(name, level) != level:
                raise ValueError(
                    f"marker {name!r} is listed under {seen[name]} and {level}: give it one level"
                )
            seen[name] = level
    return {str(level): tuple(names) for level, names in value.items()}


Size = Annotated[int, BeforeValidator(_size)]
Duration = Annotated[float, BeforeValidator(_duration)]
Percent = Annotated[float, BeforeValidator(_percent)]
MetricName = Annotated[str, BeforeValidator(_metric_name)]
Target = Annotated[str, BeforeValidator(_target)]
GateText = Annotated[str, BeforeValidator(_gate)]
PerLevelCount = Annotated[int | dict[str, int], BeforeValidator(_per_level(_whole(1)))]
PerLevelWarmup = Annotated[int | dict[str, int], BeforeValidator(_per_level(_whole(0)))]
PerLevelDuration = Annotated[float | dict[str, float], BeforeValidator(_per_level(_duration))]
PerLevelNames = Annotated[tuple[str, ...] | dict[str, tuple[str, ...]], BeforeValidator(_per_level(_names))]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeverityBytes(_Section):
    """Projected growth per 1,000 operations that makes a leak minor / major / critical."""

    minor: Size = 5_000_000
    major: Size = 20_000_000
    critical: Size = 50_000_000

    @model_validator(mode="after")
    def _ordered(self) -> SeverityBytes:
        if not self.minor <= self.major <= self.critical:
            raise ValueError(
                f"thresholds must grow: minor {self.minor} <= major {self.major} <= critical {self.critical}"
            )
        return self


class SeverityOverride(_Section):
    """Some of :class:`SeverityBytes`, laid over the ``leaks.severity`` of the file."""

    minor: Size | None = None
    major: Size | None = None
    critical: Size | None = None


class LeakConfig(_Section):
    """``leaks:``, the defaults of every leak check (``detect_leaks``, ``memwatch leaks``,
    ``no_leaks``, validate's ``leaks`` check)."""

    max_growth: Size = 1_000_000  # per 1,000 operations
    iterations: int | None = Field(default=None, gt=0)  # None: adaptive
    warmup: int | None = Field(default=None, ge=0)  # None: until the signals settle
    time_budget: Duration = 10.0
    severity: SeverityBytes = SeverityBytes()
    reset_caches: bool = True
    signals: tuple[SignalName, ...] | None = None  # None: every signal
    attribute: bool = True


class SeverityPercent(_Section):
    minor: Percent = 15.0
    major: Percent = 30.0
    critical: Percent = 50.0


class RegressionConfig(_Section):
    """``regression:``. ``thresholds`` maps a metric to the percent change that counts for it
    (``{ops_per_second: 10, gc_pause_avg_ms: 25}``); other metrics use ``severity.minor``.
    Which way a metric regresses is :mod:`memwatch.regression.metrics`'s table."""

    severity: SeverityPercent = SeverityPercent()
    leak_severity: SeverityBytes = SeverityBytes()
    abs_floor: Size = 1_048_576
    alpha: float = Field(default=0.05, gt=0, lt=1)
    fail_on: tuple[GateText, ...] = ()
    thresholds: dict[MetricName, Percent] = {}
    auto_update_baselines: bool = True
    #: validate's regression check: samples per level and calls per sample
    samples: PerLevelCount = {"quick": 5, "comprehensive": 9, "nightly": 15}
    batch: int = Field(default=10, gt=0)


class GCConfig(_Section):
    """``gc:``, the limits of a GC check (``memwatch gc``, ``memory_gc``, validate's ``gc``);
    None switches a limit off."""

    iterations: int = Field(default=1000, gt=0)
    pause_p95_ms: float | None = Field(default=100.0, gt=0)
    pause_p99_ms: float | None = Field(default=None, gt=0)
    pause_max_ms: float | None = Field(default=None, gt=0)
    time_share: float | None = Field(default=None, ge=0, le=1)
    collections_per_operation: float | None = Field(default=None, ge=0)
    uncollectable: int | None = Field(default=0, ge=0)
    objects_per_ms: float | None = Field(default=None, ge=0)


class StressConfig(_Section):
    """``stress:``, the defaults of the stress scenarios (``memwatch stress``, validate's ``stress``)."""

    limit: Size = 512 * 2**20
    duration: Duration = 60.0
    timeout: Duration = 300.0
    cap: Literal["auto", "rlimit", "cgroup"] = "auto"
    #: limits on the child's growth over its first reading (document 004's pressure tests:
    #: RSS growth < 500 MB, VMS growth < 800 MB); unset: reported, not judged
    max_rss_growth: Size | None = None
    max_vms_growth: Size | None = None


class StoreConfig(_Section):
    url: str | None = None  # default: sqlite:///.memwatch/history.db


class PytestConfig(_Section):
    """Defaults of the pytest plugin's options (``[tool.memwatch.pytest]``); the command line
    and the pytest ini file win. ``record`` is ``--memwatch``, the others drop the prefix."""

    record: bool = False
    level: Level | None = None
    leaks: bool = False
    report: str | None = None
    db: str | None = None
    isolate: bool = False
    tracemalloc: bool = False
    summary_rows: int = Field(default=10, ge=0)
    update_baselines: bool = False
    #: level -> markers whose tests run from that level up (``{quick: [oom, recovery]}``); the
    #: markers it does not name keep memwatch's levels (:data:`memwatch.plugin.markers.LEVEL_OF`)
    levels: Annotated[dict[str, tuple[str, ...]], BeforeValidator(_level_markers)] | None = None
    fail_on: tuple[GateText, ...] = ()


# -- the validation suite: per-check blocks under ``checks:`` and inside a component ------------


class _CheckBlock(_Section):
    """Options every check takes. In a component only the options are allowed, not ``levels``
    nor ``components`` (the components a check runs on: every one when unset, else a list of
    their names, or a mapping of level -> list, as document 000's ``validation_levels``)."""

    levels: tuple[Level, ...] | None = None
    fail_on: FailOn = "budget"
    components: PerLevelNames | None = None


class LeakCheck(_CheckBlock):
    """``checks.leaks``: unset options fall back to ``leaks:``."""

    levels: tuple[Level, ...] | None = LEVELS
    max_growth: Size | None = None
    iterations: PerLevelCount | None = None
    warmup: PerLevelWarmup | None = None
    time_budget: PerLevelDuration | None = None
    severity: SeverityOverride | None = None
    reset_caches: bool | None = None
    signals: tuple[SignalName, ...] | None = None
    attribute: bool | None = None


class GCLimits(_Section):
    """``checks.gc.thresholds``: the :class:`~memwatch.gcwatch.validator.GCThresholds` names."""

    max_pause_p95_ms: float | None = Field(default=None, gt=0)
    max_pause_p99_ms: float | None = Field(default=None, gt=0)
    max_pause_ms: float | None = Field(default=None, gt=0)
    max_time_share: float | None = Field(default=None, ge=0, le=1)
    max_collections_per_operation: float | None = Field(default=None, ge=0)
    max_uncollectable: int | None = Field(default=None, ge=0)
    min_objects_per_ms: float | None = Field(default=None, ge=0)


class GCCheck(_CheckBlock):
    levels: tuple[Level, ...] | None = ("comprehensive", "nightly")
    iterations: PerLevelCount | None = None
    thresholds: GCLimits | None = None


class RegressionCheck(_CheckBlock):
    levels: tuple[Level, ...] | None = LEVELS
    fail_on: FailOn = "critical"
    samples: Annotated[int | dict[str, int], BeforeValidator(_per_level(_whole(2)))] | None = None
    batch: int | None = Field(default=None, gt=0)
    gates: tuple[GateText, ...] = ()


class StressCheck(_CheckBlock):
    levels: tuple[Level, ...] | None = ("nightly",)
    #: the suite calls operations without arguments, so ramp (func(load)) is not the default here
    scenarios: tuple[ScenarioName, ...] = ("spike",)
    limit: Size | None = None
    duration: Duration | None = None
    timeout: Duration | None = None
    max_rss_growth: Size | None = None
    max_vms_growth: Size | None = None


class BenchCheck(_CheckBlock):
    levels: tuple[Level, ...] | None = ("nightly",)
    only: tuple[str, ...] | None = None


#: the built-in checks and their blocks, in the order the suite runs them
CHECK_BLOCKS: dict[str, type[_CheckBlock]] = {
    "leaks": LeakCheck,
    "regression": RegressionCheck,
    "gc": GCCheck,
    "stress": StressCheck,
    "bench": BenchCheck,
}


def _extras_are_blocks(model: type[BaseModel], data: Any) -> Any:
    """An extra key (a check registered with ``register_check``) must hold a mapping of options;
    anything else is a typo such as ``opration:`` (checked first, so the typo is what is named,
    not the key it misspells)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key not in model.model_fields and not isinstance(value, dict):
                raise PydanticCustomError("unknown_key", "unknown key", {"key": str(key)})
    return data


class ChecksConfig(_Section):
    """``checks:``, one block per check; other names are checks registered in Python."""

    model_config = ConfigDict(extra="allow", frozen=True)

    leaks: LeakCheck = LeakCheck()
    regression: RegressionCheck = RegressionCheck()
    gc: GCCheck = GCCheck()
    stress: StressCheck = StressCheck()
    bench: BenchCheck = BenchCheck()

    @model_validator(mode="before")
    @classmethod
    def _extras(cls, data: Any) -> Any:
        return _extras_are_blocks(cls, data)


class ComponentConfig(_Section):
    """One entry of ``components:``; a check's block here overrides ``checks.<name>``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str = Field(min_length=1)
    operation: Target
    factory: Target | None = None
    checks: tuple[str, ...] | None = None
    leaks: LeakCheck | None = None
    regression: RegressionCheck | None = None
    gc: GCCheck | None = None
    stress: StressCheck | None = None
    bench: BenchCheck | None = None

    @model_validator(mode="before")
    @classmethod
    def _extras(cls, data: Any) -> Any:
        return _extras_are_blocks(cls, data)


class Config(_Section):
    """The whole configuration; every section has defaults."""

    leaks: LeakConfig = LeakConfig()
    regression: RegressionConfig = RegressionConfig()
    gc: GCConfig = GCConfig()
    stress: StressConfig = StressConfig()
    store: StoreConfig = StoreConfig()
    pytest: PytestConfig = PytestConfig()
    report_dir: str = "reports/memory_validation"
    level: Level = "quick"
    components: tuple[ComponentConfig, ...] = ()
    checks: ChecksConfig = ChecksConfig()
    # The memory benchmark set's thresholds (``bench.thresholds.<name>``), validated by
    # memwatch.benchset, which owns the benchmark names.
    bench: dict[str, Any] = Field(default_factory=dict)
    source: str = ""
    _lines: dict[tuple[str, ...], int] = PrivateAttr(default_factory=dict)

    def where(self, *loc: str | int) -> str:
        """``file:line`` of a key (as near as known), for error messages."""
        source = self.source or "<config>"
        line = _nearest_line(self._lines, tuple(str(part) for part in loc))
        return f"{source}:{line}" if line else source

    def error(self, message: str, *loc: str | int) -> ConfigError:
        """A one-line :class:`ConfigError` at ``loc``: ``file:line: key: message``."""
        return ConfigError(f"{self.where(*loc)}: {key_text(loc)}: {message}")


def key_text(loc: tuple[str | int, ...] | list[str | int]) -> str:
    """``components[0].leaks.max_growth`` from a location."""
    text = ""
    for part in loc:
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def did_you_mean(word: str, choices: Any) -> str:
    """`` (did you mean 'x'?)`` when a choice is close to ``word``, else ``""``."""
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def known_keys(loc: tuple[str | int, ...]) -> list[str]:
    """The keys the schema allows at ``loc`` (a mapping's location), for suggestions."""
    model: Any = Config
    for part in loc:
        if isinstance(part, int) or str(part).isdigit():
            continue
        if model is ChecksConfig and part not in ChecksConfig.model_fields:
            return []
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        model = _model_in(field.annotation)
        if model is None:
            return []
    keys = list(model.model_fields)
    if model is Config:
        keys.remove("source")
    return keys


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def load_config(path: str | os.PathLike[str] | None = None, *, search: bool = True) -> Config:
    """Load and validate a config file; defaults when there is none. Every mistake is one
    :class:`ConfigError` line naming the file, the line, the key (and a close match)."""
    if path is None:
        found = find_config() if search else None
        if found is None:
            return Config()
        path = found
    path = Path(path)
    try:
        exists = path.is_file()
    except OSError:  # a name too long: read_config_text says so
        exists = True
    if not exists:
        raise ConfigError(f"config file {path} does not exist")
    text = read_config_text(path)
    try:
        lines: dict[tuple[str, ...], int] = {}
        if path.suffix == ".toml":
            data: Any = tool_memwatch(path, text) or {}
            lines = _toml_lines(text)
        else:
            data, lines = _load_yaml(text, str(path))
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of keys to values")
        from memwatch.config.seed000 import convert, is_seed000

        if is_seed000(data):  # document 000's memory_validation.yaml, accepted as written
            data = convert(data, source=str(path)).data
            lines = {}
        return validate_config(data, source=str(path), lines=lines)
    except RecursionError:
        raise ConfigError(
            f"{path}: nested too deeply, or a YAML alias that refers to itself (a config is a few levels deep)"
        ) from None


def validate_config(
    data: dict[str, Any], *, source: str = "<config>", lines: dict[tuple[str, ...], int] | None = None
) -> Config:
    if "source" in data:
        raise ConfigError(f"{source}: source: unknown key")
    try:
        config = Config.model_validate({**data, "source": source})
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e["type"] not in ("extra_forbidden", "unknown_key"))
        raise _one_line(errors[0], source, lines or {}) from None
    config._lines = dict(lines or {})
    seen: set[str] = set()
    for index, component in enumerate(config.components):
        if component.name in seen:
            raise config.error(f"duplicate component name {component.name!r}", "components", index, "name")
        seen.add(component.name)
    return config


def _one_line(error: Any, source: str, lines: dict[tuple[str, ...], int]) -> ConfigError:
    loc = tuple(error["loc"])
    if error["type"] == "unknown_key":
        loc = (*loc, error["ctx"]["key"])
    line = _nearest_line(lines, tuple(str(part) for part in loc))
    where = f"{source}:{line}" if line else source
    message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if error["type"] in ("extra_forbidden", "unknown_key"):
        message = "unknown key" + did_you_mean(str(loc[-1]), known_keys(loc[:-1]))
    elif error["type"] == "literal_error":
        expected = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        message = f"{error['input']!r} is not one of {', '.join(expected)}" + did_you_mean(
            str(error["input"]), expected
        )
    elif error["type"] == "missing":
        message = "required"
    return ConfigError(f"{where}: {key_text(loc)}: {message}")


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
        raise ConfigError(f"{source}: invalid YAML: {str(exc).splitlines()[0]}") from None
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


_TOML_TABLE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_TOML_KEY = re.compile(r"""^\s*("?)([A-Za-z0-9_.-]+)\1\s*=""")
_TOML_INLINE = re.compile(r"""[{,]\s*("?)([A-Za-z0-9_-]+)\1\s*=""")


def _toml_lines(text: str) -> dict[tuple[str, ...], int]:
    """Line numbers of ``[tool.memwatch]`` keys (tomllib keeps none): tables, arrays of
    tables, ``key = value`` lines and the keys of one-line inline tables."""
    out: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] | None = None
    counts: dict[tuple[str, ...], int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        header = _TOML_TABLE.match(raw)
        if header is not None:
            parts = tuple(p.strip().strip('"') for p in header.group(2).split("."))
            if parts[:2] != ("tool", "memwatch"):
                table = None
                continue
            table = parts[2:]
            if header.group(1) == "[[":
                counts[table] = counts.get(table, -1) + 1
                table = (*table, str(counts[table]))
            out.setdefault(table, number)
            continue
        key = _TOML_KEY.match(raw)
        if table is None or key is None:
            continue
        path = (*table, *key.group(2).split("."))
        out.setdefault(path, number)
        rest = raw[key.end() :]
        for inner in _TOML_INLINE.finditer(rest):
            out.setdefault((*path, inner.group(2)), number)
    return out
