"""Small helpers the scenario runners share: verdict records, samples from child events, rate text."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from memwatch.model.stress import ScenarioResult, StressCheck, StressSample
from memwatch.stress.child import ChildRun
from memwatch.units import format_size

__all__ = ["check", "child_completed", "rate_text", "require_evidence", "samples_of"]


def check(
    name: str, status: str, value: float, target: float, op: str, detail: str = "", unit: str = ""
) -> StressCheck:
    """A :class:`StressCheck`; ``status`` is pass, fail, inconclusive or not-judged."""
    return StressCheck(name, status, float(value), float(target), op, detail, unit)  # type: ignore[arg-type]


def samples_of(run: ChildRun) -> tuple[StressSample, ...]:
    """The child's ``sample`` events as records; a missing reading is NaN."""
    nan = math.nan

    def num(value: object) -> float:
        return float(value) if isinstance(value, int | float) else nan

    return tuple(
        StressSample(
            t=num(e.get("t")),
            rss=num(e.get("rss")),
            heap=num(e.get("heap")),
            native=num(e.get("native")),
            native_free=num(e.get("native_free")),
            label=str(e.get("label", "")),
            vms=num(e.get("vms")),
        )
        for e in run.of("sample")
    )


def child_completed(run: ChildRun) -> list[StressCheck]:
    """A failing check when the child ended without its result (crash, MemoryError, timeout)."""
    if run.outcome.completed:
        return []
    return [check("child completed", "fail", 0, 1, "==", run.outcome.error or run.outcome.exit, "count")]


def rate_text(value: float) -> str:
    """A growth rate for people, in decimal units per second (the targets are in MB)."""
    return "n/a" if math.isnan(value) else format_size(value, signed=value < 0, binary=False) + "/s"


def require_evidence(result: ScenarioResult, deciding: Sequence[str], why: str) -> ScenarioResult:
    """``result``, not passed when none of its ``deciding`` checks passed although none failed:
    no evidence either way is no pass (``ScenarioResult.inconclusive``, with ``why`` noted)."""
    checks = [c for c in result.checks if c.name in deciding]
    if not result.passed or any(c.status == "pass" for c in checks):
        return result
    return dataclasses.replace(result, passed=False, notes=(*result.notes, f"inconclusive: {why}"))
