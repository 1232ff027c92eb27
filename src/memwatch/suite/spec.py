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

from memwatch.config.schema import Config
from memwatch.config.target import resolve_target
from memwatch.errors import ConfigError

__all__ = [
    "DEFAULT_LEVELS",
    "LEVELS",
    "CheckSpec",
    "ComponentSpec",
    "SuiteSpec",
    "resolve_target",
    "suite_spec",
]

LEVELS = ("quick", "comprehensive", "nightly")
DEFAULT_LEVELS: dict[str, tuple[str, ...]] = {
    "leaks": LEVELS,
    "regression": LEVELS,
    "gc": ("comprehensive", "nightly"),
    "stress": ("nightly",),
    "bench": ("nightly",),
}


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    operation: str
    factory: str | None = None
    checks: tuple[str, ...] | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckSpec:
    name: str
    levels: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)


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
                pairs.append((component, check))
        return pairs


_COMPONENT_KEYS = {"name", "operation", "factory", "checks"}


def suite_spec(config: Config, known_checks: set[str]) -> SuiteSpec:
    """Validate the suite sections of ``config``; errors name the source and the key."""
    source = config.source or "<config>"
    base = Path(config.source).resolve().parent if config.source else Path.cwd()
    components: list[ComponentSpec] = []
    seen: set[str] = set()
    for index, raw in enumerate(config.components):
        where = f"{source}: components[{index}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: expected a mapping with name and operation")
        name = raw.get("name")
        operation = raw.get("operation")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}.name: required, a non-empty string")
        if name in seen:
            raise ConfigError(f"{where}.name: duplicate component name {name!r}")
        seen.add(name)
        if not isinstance(operation, str) or ":" not in operation:
            raise ConfigError(f"{where}.operation: required, an import path like 'pkg.mod:func'")
        factory = raw.get("factory")
        if factory is not None and (not isinstance(factory, str) or ":" not in factory):
            raise ConfigError(f"{where}.factory: an import path like 'pkg.mod:make'")
        checks = raw.get("checks")
        if checks is not None:
            if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
                raise ConfigError(f"{where}.checks: a list of check names")
            for check in checks:
                if check not in known_checks:
                    raise ConfigError(
                        f"{where}.checks: unknown check {check!r}; "
                        f"known checks: {', '.join(sorted(known_checks))}"
                    )
        options = {k: v for k, v in raw.items() if k not in _COMPONENT_KEYS}
        components.append(
            ComponentSpec(name, operation, factory, tuple(checks) if checks is not None else None, options)
        )
    checks_out: dict[str, CheckSpec] = {}
    raw_checks = dict(config.checks)
    for name in raw_checks:
        if name not in known_checks:
            raise ConfigError(
                f"{source}: checks.{name}: unknown check; known checks: {', '.join(sorted(known_checks))}"
            )
    for name in known_checks:
        raw = raw_checks.get(name, {}) or {}
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: checks.{name}: expected a mapping of options")
        levels = raw.get("levels", list(DEFAULT_LEVELS.get(name, LEVELS)))
        if not isinstance(levels, list) or any(lv not in LEVELS for lv in levels):
            raise ConfigError(f"{source}: checks.{name}.levels: a list drawn from {', '.join(LEVELS)}")
        options = {k: v for k, v in raw.items() if k != "levels"}
        checks_out[name] = CheckSpec(name, tuple(levels), options)
    ordered = dict(sorted(checks_out.items(), key=lambda kv: _order(kv[0])))
    return SuiteSpec(tuple(components), ordered, base)


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
