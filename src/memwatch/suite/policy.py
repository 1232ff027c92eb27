"""The failure policy: what each status word means, the same for every check.

- ``pass``: the check measured and found nothing.
- ``warn``: it found something its ``fail_on`` rule lets through (a leak within its budget,
  a regression below the bar, an inconclusive verdict); the run still passes.
- ``fail``: a finding its rule fails: over the check's own budget (a leak over ``max_growth``,
  a GC limit, a stress target, a bench threshold, a regression gate) unless ``fail_on:
  never``, or a severity at or above ``fail_on`` when that is a severity.
- ``error``: no verdict (the operation raised, an engine crashed, a gate names no metric).

``fail_on`` is ``budget`` (the default of every check but ``regression``, whose default is
``critical``), a severity (``trace``, ``minor``, ``major``, ``critical``: at or above it fails,
and the budget still fails) or ``never`` (advisory: findings only warn).
"""

from __future__ import annotations

from typing import Any

from memwatch.errors import ConfigError
from memwatch.model.suite import Severity, Status

__all__ = ["FAIL_ON", "SEVERITY_ORDER", "fail_threshold", "status_for"]

SEVERITY_ORDER: tuple[Severity, ...] = ("none", "trace", "minor", "major", "critical")
FAIL_ON: tuple[str, ...] = ("budget", *SEVERITY_ORDER[1:], "never")


def fail_threshold(options: dict[str, Any], default: str = "budget") -> str:
    """A custom check's ``fail_on`` (the built-in checks' blocks are validated by the schema)."""
    value = options.get("fail_on", default)
    if value not in FAIL_ON:
        raise ConfigError(f"fail_on: {value!r} is not one of {', '.join(FAIL_ON)}")
    return str(value)


def status_for(severity: Severity, threshold: str, over_budget: bool = False) -> Status:
    """``fail`` over the budget or at/above a severity threshold, ``warn`` for any other
    finding, else ``pass`` (see the module docstring)."""
    if severity == "none" and not over_budget:
        return "pass"
    if threshold == "never":
        return "warn"
    if over_budget:
        return "fail"
    if threshold != "budget" and SEVERITY_ORDER.index(severity) >= SEVERITY_ORDER.index(threshold):
        return "fail"
    return "warn"
