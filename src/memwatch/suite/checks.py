"""The suite's plug-in checks: a registry of names to callables, and the built-in ones.

A check is any callable ``check(component, spec, ctx) -> CheckOutcome``. Register
your own with :func:`register_check`; the built-ins wrap memwatch's engines and
import them only when they run (so a missing optional engine skips, it does not
break the suite). The failure policy lives in :mod:`memwatch.suite.policy`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from memwatch.config.schema import Config
from memwatch.model.suite import CheckOutcome
from memwatch.suite.spec import CheckSpec, ComponentSpec

__all__ = ["Check", "SuiteContext", "available_checks", "get_check", "register_check"]


@dataclass
class SuiteContext:
    """What every check may use: the config, the level, the store (None when off)."""

    config: Config
    level: str
    base_dir: Path
    store: Any = None
    environment: dict[str, Any] = field(default_factory=dict)
    debug: bool = False


class Check(Protocol):
    def __call__(self, component: ComponentSpec, spec: CheckSpec, ctx: SuiteContext) -> CheckOutcome: ...


_REGISTRY: dict[str, Check] = {}
C = TypeVar("C", bound=Check)


def register_check(name: str) -> Callable[[C], C]:
    """Decorator: register a check under ``name`` (a later registration replaces it)."""

    def wrap(fn: C) -> C:
        _REGISTRY[name] = fn
        return fn

    return wrap


def available_checks() -> set[str]:
    _load_builtins()
    return set(_REGISTRY)


def get_check(name: str) -> Check:
    _load_builtins()
    return _REGISTRY[name]


def timed(fn: Callable[[], CheckOutcome]) -> CheckOutcome:
    """Run ``fn`` and stamp the outcome with how long it took."""
    start = time.perf_counter()
    outcome = fn()
    return CheckOutcome(**{**_fields(outcome), "duration": time.perf_counter() - start})


def _fields(outcome: CheckOutcome) -> dict[str, Any]:
    return {name: getattr(outcome, name) for name in outcome.__dataclass_fields__}


_loaded = False


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from memwatch.suite import builtin_checks  # registers on import

    del builtin_checks
