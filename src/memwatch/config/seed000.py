"""Document 000's ``config/memory_validation.yaml``, read into memwatch's schema.

Document 000 configures its suite per level, then thresholds::

    validation_levels:
      quick:
        leak_detection: {iterations: 50, components: ["ExpertManager", "RustModules"]}
        regression_testing: {enabled: true}
        stress_testing: {enabled: false}
        gc_performance: {iterations: 100}
    thresholds:
      memory_leak: {critical_mb: 50.0, major_mb: 20.0, minor_mb: 5.0}
      performance_regression: {critical_percent: 50.0, major_percent: 30.0, minor_percent: 15.0}

:func:`convert` turns that into memwatch's keys and says, line by line, where each went
(:class:`Conversion`). A section under a level runs its check at that level (unless
``enabled: false``); a level the file does not name keeps the check's default levels.
``iterations`` and ``components`` become per-level values of the check
(``checks.leaks.iterations.quick``, ``checks.leaks.components.quick``); the components
are picked by name from memwatch's ``components:`` list, which says how to call each one
(``operation: module:callable``) and may sit in the same file. Every other top-level key
is memwatch's own and is kept as it is. Something with no memwatch equivalent is a
:class:`~memwatch.errors.ConfigError` naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from memwatch.errors import ConfigError

__all__ = ["SECTIONS", "Conversion", "convert", "is_seed000"]

#: document 000's section under a level -> memwatch's check
SECTIONS: dict[str, str] = {
    "leak_detection": "leaks",
    "regression_testing": "regression",
    "stress_testing": "stress",
    "gc_performance": "gc",
}
#: the keys each section may set, besides ``enabled`` and ``components``
_PER_LEVEL_KEYS: dict[str, tuple[str, ...]] = {
    "leaks": ("iterations", "warmup", "time_budget"),
    "gc": ("iterations",),
    "regression": ("samples",),
    "stress": (),
}
_LEVELS = ("quick", "comprehensive", "nightly")
#: document 000 also calls its longest level "extended"
_LEVEL_ALIASES = {"extended": "nightly"}
_SEVERITY = ("minor", "major", "critical")


@dataclass
class Conversion:
    """The converted config (``data``, memwatch's schema) and ``mapping``: (from, to) lines."""

    data: dict[str, Any]
    mapping: list[tuple[str, str]] = field(default_factory=list)

    def mapping_text(self) -> str:
        width = max((len(a) for a, _ in self.mapping), default=0)
        return "\n".join(f"{a:<{width}}  ->  {b}" for a, b in self.mapping)


def is_seed000(data: Any) -> bool:
    """True for a mapping written in document 000's keys (``validation_levels``, ``thresholds``)."""
    return isinstance(data, dict) and ("validation_levels" in data or "thresholds" in data)


def _default_levels() -> dict[str, tuple[str, ...]]:
    from memwatch.config.schema import CHECK_BLOCKS

    return {
        name: tuple(CHECK_BLOCKS[name].model_fields["levels"].default or ()) for name in SECTIONS.values()
    }


def _mapping(value: Any, where: str, source: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: {where}: expected a mapping, got {value!r}")
    return value


def convert(data: dict[str, Any], *, source: str = "<config>") -> Conversion:
    """Document 000's keys in ``data`` converted to memwatch's (other keys kept as they are)."""
    out = {k: v for k, v in data.items() if k not in ("validation_levels", "thresholds")}
    result = Conversion(out)
    checks = out.setdefault("checks", {})
    if not isinstance(checks, dict):
        raise ConfigError(f"{source}: checks: expected a mapping")
    levels_in = _mapping(data.get("validation_levels"), "validation_levels", source)
    defaults = _default_levels()
    running: dict[str, set[str]] = {name: set(defaults[name]) for name in SECTIONS.values()}
    for raw_level, raw_sections in levels_in.items():
        level = _LEVEL_ALIASES.get(str(raw_level), str(raw_level))
        where = f"validation_levels.{raw_level}"
        if level not in _LEVELS:
            raise ConfigError(
                f"{source}: {where}: unknown level; levels are {', '.join(_LEVELS)} (extended = nightly)"
            )
        if level != raw_level:
            result.mapping.append((where, f"level {level}"))
        sections = _mapping(raw_sections, where, source)
        for name in SECTIONS.values():  # a level that is listed runs only the sections it lists
            running[name].discard(level)
        for section, raw_body in sections.items():
            check = SECTIONS.get(str(section))
            if check is None:
                raise ConfigError(
                    f"{source}: {where}.{section}: unknown section; known: {', '.join(SECTIONS)}"
                )
            body = _mapping(raw_body, f"{where}.{section}", source)
            try:
                _section(result, checks, check, level, f"{where}.{section}", body, running)
            except ConfigError as exc:
                raise ConfigError(f"{source}: {exc}") from None
    for name in SECTIONS.values():
        if levels_in and set(defaults[name]) != running[name]:
            chosen = [level for level in _LEVELS if level in running[name]]
            block = checks.setdefault(name, {})
            block["levels"] = chosen
            result.mapping.append(
                (f"validation_levels.*.{_section_name(name)}", f"checks.{name}.levels: {chosen}")
            )
    _thresholds(result, _mapping(data.get("thresholds"), "thresholds", source), source)
    for name in [name for name, block in checks.items() if block == {}]:
        del checks[name]
    if not checks:
        del out["checks"]
    return result


def _section_name(check: str) -> str:
    return next(section for section, name in SECTIONS.items() if name == check)


def _section(
    result: Conversion,
    checks: dict[str, Any],
    check: str,
    level: str,
    where: str,
    body: dict[str, Any],
    running: dict[str, set[str]],
) -> None:
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}.enabled: expected true or false, got {enabled!r}")
    if enabled:
        running[check].add(level)
    if "enabled" in body or not body:
        word = "runs" if enabled else "does not run"
        result.mapping.append(
            (f"{where}.enabled: {str(enabled).lower()}", f"check {check} {word} at {level}")
        )
    block = checks.setdefault(check, {})
    for key, value in body.items():
        if key == "enabled":
            continue
        if key == "components":
            target = block.setdefault("components", {})
        elif key in _PER_LEVEL_KEYS[check]:
            target = block.setdefault(key, {})
        else:
            known = ", ".join(("enabled", "components", *_PER_LEVEL_KEYS[check]))
            raise ConfigError(f"{where}.{key}: no memwatch equivalent for the {check} check; known: {known}")
        if not isinstance(target, dict):
            raise ConfigError(f"{where}.{key}: checks.{check}.{key} is already set for every level")
        target[level] = list(value) if isinstance(value, list | tuple) else value
        result.mapping.append((f"{where}.{key}: {value!r}", f"checks.{check}.{key}.{level}"))


def _thresholds(result: Conversion, thresholds: dict[str, Any], source: str) -> None:
    for group, raw_body in thresholds.items():
        body = _mapping(raw_body, f"thresholds.{group}", source)
        if group == "memory_leak":
            section, suffix, unit = ("leaks", "severity"), "_mb", " MB"
            note = " (projected growth per 1,000 operations)"
        elif group == "performance_regression":
            section, suffix, unit = ("regression", "severity"), "_percent", "%"
            note = ""
        else:
            raise ConfigError(
                f"{source}: thresholds.{group}: no memwatch equivalent; known: memory_leak, performance_regression"
            )
        target = result.data.setdefault(section[0], {})
        if not isinstance(target, dict):
            raise ConfigError(f"{source}: {section[0]}: expected a mapping")
        severity = target.setdefault(section[1], {})
        for key, value in body.items():
            grade = str(key).removesuffix(suffix)
            if grade not in _SEVERITY or not str(key).endswith(suffix):
                known = ", ".join(f"{g}{suffix}" for g in _SEVERITY)
                raise ConfigError(f"{source}: thresholds.{group}.{key}: unknown key; known: {known}")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{source}: thresholds.{group}.{key}: expected a number, got {value!r}")
            severity[grade] = f"{value:g}{unit}" if unit == " MB" else float(value)
            shown = severity[grade] if unit == " MB" else f"{value:g}%"
            result.mapping.append(
                (f"thresholds.{group}.{key}: {value:g}", f"{'.'.join(section)}.{grade}: {shown}{note}")
            )
