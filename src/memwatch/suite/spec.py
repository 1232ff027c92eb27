"""What the validation suite runs: components, checks, and which level runs which check.

From the config's ``components`` and ``checks`` sections (``memwatch.yaml`` or
``[tool.memwatch]``)::

    components:
      - name: sessions
        operation: app.sessions:handle_request   # module:callable, called with no arguments
        factory: app.sessions:make_store         # optional: component mode (create, operate, close)
        checks: [leaks, gc]                      # optional: default is every check of the level
    checks:
      leaks: {levels: [quick, comprehensive, nightly], max_growth: 1 MB}
      gc: {levels: [comprehensive, nightly], iterations: 2000}
      regression: {levels: [quick, comprehensive, nightly], gates: ["peak:10%"]}

Import paths resolve against the config file's folder first, then ``sys.path``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memwatch.config.schema import (
    CHECK_BLOCKS,
    LEVELS,
    ComponentConfig,
    Config,
    did_you_mean,
)
from memwatch.config.target import resolve_target
from memwatch.errors import ConfigError

__all__ = [
    "DEFAULT_LEVELS",
    "LEVELS",
    "CheckSpec",
    "ComponentSpec",
    "SuiteSpec",
    "check_block",
    "resolve_target",
    "suite_spec",
]

#: the built-in checks' default levels (the schema's check blocks hold them)
DEFAULT_LEVELS: dict[str, tuple[str, ...]] = {
    name: tuple(block.model_fields["levels"].default) for name, block in CHECK_BLOCKS.items()
}
_FAIL_ON = ("budget", "trace", "minor", "major", "critical", "never")


@dataclass(frozen=True)
class ComponentSpec:
    """A component; ``options`` holds its own check blocks (check name -> the keys it sets)."""

    name: str
    operation: str
    factory: str | None = None
    checks: tuple[str, ...] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    index: int = 0


@dataclass(frozen=True)
class CheckSpec:
    """A check of ``checks:``; ``options`` holds the keys its block sets (without ``levels``)."""

    name: str
    levels: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)
    #: the components it runs on, per level (None: every component)
    components: dict[str, tuple[str, ...]] | None = None

    def runs_on(self, component: str, level: str) -> bool:
        if self.components is None:
            return True
        return component in self.components.get(level, ())


@dataclass(frozen=True)
class SuiteSpec:
    components: tuple[ComponentSpec, ...]
    checks: dict[str, CheckSpec]
    base_dir: Path

    def plan(self, level: str) -> list[tuple[ComponentSpec, CheckSpec]]:
        """The (component, check) pairs that run at ``level``, in config order."""
        if level not in LEVELS:
            raise ConfigError(f"unknown level {level!r}; choose one of {', '.join(LEVELS)}")
        pairs = []
        for component in self.components:
            for name, check in self.checks.items():
                if level not in check.levels:
                    continue
                if component.checks is not None and name not in component.checks:
                    continue
                if not check.runs_on(component.name, level):
                    continue
                pairs.append((component, check))
        return pairs


def check_block(component: ComponentSpec, spec: CheckSpec) -> Any:
    """A built-in check's options for one component: its block in the component over
    ``checks.<name>`` over the schema's defaults (validated again: the result is the block)."""
    own = component.options.get(spec.name) or {}
    return CHECK_BLOCKS[spec.name].model_validate({**spec.options, **own})


def _dump(block: Any) -> dict[str, Any]:
    if block is None:
        return {}
    if isinstance(block, dict):
        return dict(block)
    out: dict[str, Any] = block.model_dump(exclude_unset=True)
    return out


def suite_spec(config: Config, known_checks: set[str]) -> SuiteSpec:
    """The suite sections of ``config`` (validated by the schema) against the checks that exist;
    errors name the file, the line and the key, with the closest known name."""
    base = Path(config.source).resolve().parent if config.source else Path.cwd()
    known = sorted(known_checks)
    components = [_component(config, index, raw, known_checks) for index, raw in enumerate(config.components)]
    checks_out: dict[str, CheckSpec] = {}
    extras = dict(config.checks.model_extra or {})
    for name in extras:
        if name not in known_checks:
            raise config.error(
                f"unknown check{did_you_mean(name, known)}; known checks: {', '.join(known)}", "checks", name
            )
    for name in known_checks:
        if name in CHECK_BLOCKS:
            options = _dump(getattr(config.checks, name))
            levels = options.pop("levels", DEFAULT_LEVELS[name])
        else:
            options = dict(extras.get(name) or {})
            levels = _custom_levels(config, name, options.pop("levels", list(LEVELS)))
            fail_on = options.get("fail_on", "budget")
            if fail_on not in _FAIL_ON:
                raise config.error(
                    f"{fail_on!r} is not one of {', '.join(_FAIL_ON)}{did_you_mean(str(fail_on), _FAIL_ON)}",
                    "checks",
                    name,
                    "fail_on",
                )
        chosen = _chosen_components(config, name, options.pop("components", None), components)
        checks_out[name] = CheckSpec(name, tuple(levels), options, chosen)
    ordered = dict(sorted(checks_out.items(), key=lambda kv: _order(kv[0])))
    return SuiteSpec(tuple(components), ordered, base)


def _component(config: Config, index: int, raw: ComponentConfig, known_checks: set[str]) -> ComponentSpec:
    known = sorted(known_checks)
    if raw.checks is not None:
        for check in raw.checks:
            if check not in known_checks:
                raise config.error(
                    f"unknown check {check!r}{did_you_mean(check, known)}; known checks: {', '.join(known)}",
                    "components",
                    index,
                    "checks",
                )
    options: dict[str, Any] = {}
    for name in CHECK_BLOCKS:
        block = getattr(raw, name)
        if block is None:
            continue
        own = _dump(block)
        if "components" in own:
            raise config.error(
                "a component's check block cannot choose components (set them under checks:)",
                "components",
                index,
                name,
                "components",
            )
        if "levels" in own:
            raise config.error(
                "a component's check block cannot set levels (set them under checks:, or list the "
                "component's checks with checks: [...])",
                "components",
                index,
                name,
                "levels",
            )
        options[name] = own
    for key, value in (raw.model_extra or {}).items():
        if key not in known_checks:
            words = [*ComponentConfig.model_fields, *known]
            raise config.error(f"unknown key{did_you_mean(key, words)}", "components", index, key)
        options[key] = dict(value)
    return ComponentSpec(raw.name, raw.operation, raw.factory, raw.checks, options, index)


def _chosen_components(
    config: Config, check: str, chosen: Any, components: list[ComponentSpec]
) -> dict[str, tuple[str, ...]] | None:
    """``checks.<check>.components`` per level (a plain list: the same at every level; a level
    the mapping leaves out runs every component); every name must be a component of
    ``components:``, which says how to call it."""
    if chosen is None:
        return None
    names = [c.name for c in components]
    per_level = dict(chosen) if isinstance(chosen, dict) else dict.fromkeys(LEVELS, chosen)
    for level, listed in per_level.items():
        if not isinstance(listed, list | tuple) or any(not isinstance(n, str) for n in listed):
            raise config.error("a list of component names", "checks", check, "components", level)
        for item in listed:
            if item not in names:
                defined = ", ".join(names) if names else "none"
                raise config.error(
                    f"unknown component {item!r}{did_you_mean(item, names)}; define it under "
                    f"components: (name and operation: module:callable); defined: {defined}",
                    "checks",
                    check,
                    "components",
                    level,
                )
    unset = {level: tuple(names) for level in LEVELS if level not in per_level}
    return {**unset, **{level: tuple(listed) for level, listed in per_level.items()}}


def _custom_levels(config: Config, name: str, levels: Any) -> list[str]:
    if not isinstance(levels, list) or any(level not in LEVELS for level in levels):
        raise config.error(f"a list drawn from {', '.join(LEVELS)}", "checks", name, "levels")
    return levels


def _order(name: str) -> tuple[int, str]:
    known = list(DEFAULT_LEVELS)
    return (known.index(name) if name in known else len(known), name)


@contextmanager
def importable_from(folder: Path) -> Iterator[None]:
    """Put ``folder`` first on sys.path while the suite imports components."""
    entry = str(folder)
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)
