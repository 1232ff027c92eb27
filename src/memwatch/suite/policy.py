"""The failure policy: which severities fail the run, which only warn.

Defaults follow the seed suites: critical leaks fail, critical regressions fail,
warnings pass and notify. ``checks.<name>.fail_on`` lowers or raises the bar
(``"minor"``, ``"major"`` or ``"critical"``); ``"never"`` makes a check advisory.
"""

from __future__ import annotations

from typing import Any

from memwatch.errors import ConfigError
from memwatch.model.suite import Severity, Status

__all__ = ["SEVERITY_ORDER", "fail_threshold", "status_for"]

SEVERITY_ORDER: tuple[Severity, ...] = ("none", "trace", "minor", "major", "critical")


def fail_threshold(options: dict[str, Any], default: str = "critical") -> str:
    value = options.get("fail_on", default)
    if value not in (*SEVERITY_ORDER[2:], "never"):
        raise ConfigError(f"fail_on: {value!r} is not one of minor, major, critical, never")
    return str(value)


def status_for(severity: Severity, threshold: str) -> Status:
    """``fail`` at or above the threshold, ``warn`` for any other finding, else ``pass``."""
    if severity == "none":
        return "pass"
    if threshold != "never" and SEVERITY_ORDER.index(severity) >= SEVERITY_ORDER.index(threshold):
        return "fail"
    return "warn"
