"""The leak verdict, decided in one place (:func:`decide`), and the report built from it.

:func:`decide` takes what the rounds found (:class:`~memwatch.leaks.engine.Measurement`),
the attribution window and the budget, and returns a :class:`Decision`: the verdict,
the signal that decided it, its kind, severity and reason. Rules, in order:

- No finding (too few rounds), an irregular rise, or growth that slowed down on every
  stretch without levelling off before the time budget ran out (a slow operation whose
  caches warm up over hundreds of calls): ``"inconclusive"``, with the time budget that
  would decide. Every signal settled: ``"clean"``.
- A deciding signal that grew during the rounds but not during the tracemalloc window
  (less than a fifth of its rate, and no significant trend) belonged to a structure
  that filled up: ``"clean"``.
- When the allocated blocks or the native heap grew together with file descriptors or
  threads, the scarcer resource names the leak.
- Bytes per call: the native heap's slope when it decided; otherwise the traced
  Python heap's median increment per call in the window (with Theil–Sen's interval),
  or the native heap's slope when that is larger (numpy buffers show in both).
- Growth of file descriptors or threads is a ``"leak"`` whatever the budget (the budget
  is bytes); growth in bytes is a ``"leak"`` over ``max_growth`` per 1,000 calls (any
  growth when ``max_growth`` is 0), and ``"growth"`` (which passes) within it.
- RSS never decides; it is reported as confirming or not.

:func:`build_report` only assembles the :class:`~memwatch.model.leaks.LeakReport`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memwatch.leaks.attribution import Attribution
from memwatch.leaks.engine import SIGNAL_UNITS, Measurement, Plan
from memwatch.model.leaks import (
    RESOURCE_KINDS,
    GrowthEstimate,
    LeakKind,
    LeakReport,
    Severity,
    Verdict,
    resource_severity,
    severity_for,
)
from memwatch.stats.trend import Trend
from memwatch.units import Size, format_value

__all__ = ["SHAPE_NOTES", "Decision", "build_report", "decide"]

#: measured calls under which a growing signal is too few to judge (half of the engine's minimum)
MIN_CALLS = Plan().min_calls

SHAPE_NOTES: dict[str, str] = {
    "flat": "flat: no rise beyond noise from stretch to stretch",
    "plateau": "plateau: grew at first, then stayed flat (a cache or pool that filled up)",
    "step": "step: one rise with flat stretches before and after (a one-time allocation)",
    "sawtooth": "sawtooth: rises and falls (a buffer that is cleared periodically)",
    "shrinking": "shrinking: memory was released over the run",
    "irregular": "rose on some stretches but not on every one",
    "growing": "grows too, but a signal earlier in the order decided",
}
_KINDS: dict[str, LeakKind] = {
    "py_blocks": "python",
    "native_heap": "native",
    "fds": "fds",
    "threads": "threads",
}
_COUNT_WORDS = {"py_blocks": "blocks", "fds": "fds", "threads": "threads"}


@dataclass(frozen=True)
class Decision:
    """The verdict and what it rests on; ``deciding`` is empty unless a signal grew."""

    verdict: Verdict
    reason: str
    deciding: str = ""
    kind: LeakKind = "none"
    severity: Severity = "none"
    bytes_per_call: tuple[float, float, float] = (0.0, 0.0, 0.0)
    notes: tuple[str, ...] = ()

    @property
    def grew(self) -> bool:
        return self.verdict in ("leak", "growth")


def _longer_budget(m: Measurement) -> float:
    """A time budget four times the rounds' time, in round seconds: enough calls for a
    decelerating series to show its plateau, or steady growth on its late stretches."""
    return _round_budget(max(4 * m.seconds / 0.7, 1.0))


def _round_budget(seconds: float) -> float:
    return float(f"{seconds:.1g}") if seconds < 10 else float(round(seconds, -1))


def _amount(name: str, value: float) -> str:
    if SIGNAL_UNITS.get(name) == "bytes":
        return format_value(value, "bytes")
    return f"{format_value(value, 'count')} {_COUNT_WORDS.get(name, name)}"


def _growth_reason(name: str, tr: Trend) -> str:
    return (
        f"{name} grew on every one of {len(tr.levels)} stretches "
        f"(Mann–Kendall p={tr.p_value:.2g}; Theil–Sen {_amount(name, tr.slope)} per call, "
        f"95% CI {_amount(name, tr.low)} to {_amount(name, tr.high)})"
    )


def decide(
    m: Measurement,
    window: Attribution | None,
    *,
    budget: int,
    thresholds: dict[str, int],
) -> Decision:
    """The one place a leak verdict is decided; see the module docstring for the rules."""
    if m.finding == "settled":
        shapes = ", ".join(f"{n} {tr.shape}" for n, tr in m.trends.items() if n in _KINDS)
        return Decision("clean", f"no signal grew on every stretch ({shapes})")
    if m.finding == "irregular":
        levels = ", ".join(f"{v:.4g}" for v in m.trends[m.signal].levels)
        return Decision(
            "inconclusive",
            f"{m.signal} rose on some stretches but not all (levels {levels}); "
            "more iterations or a longer time budget may decide",
        )
    if m.finding == "decelerating":
        early, late = m.slowing
        return Decision(
            "inconclusive",
            f"{m.calls + m.warmup_calls:,} calls in {m.seconds:.3g} s; growth slowing from "
            f"{_amount(m.signal, early)} to {_amount(m.signal, late)} per call ({m.signal}): "
            "it may level off (a cache or interpreter state warming up) or keep growing; "
            f"a time_budget of about {_longer_budget(m):g} s would decide",
        )
    if m.finding == "few_calls":
        slope = m.trends[m.signal].slope
        # below half the minimum, half of it tells a line from a curve; above, the minimum
        wanted_calls = MIN_CALLS if m.calls >= MIN_CALLS // 2 else MIN_CALLS / 2
        wanted = max(m.seconds * wanted_calls / max(m.calls, 1) / 0.7, 1.0)
        return Decision(
            "inconclusive",
            f"{m.calls + m.warmup_calls:,} calls in {m.seconds:.3g} s: too few to tell steady growth "
            f"({m.signal} {_amount(m.signal, slope)} per call) from a cache that is still filling up; "
            f"a time_budget of about {_round_budget(wanted):g} s would decide",
        )
    if m.finding != "growing":
        return Decision("inconclusive", m.shortfall or "no rounds were measured")
    deciding, notes = m.signal, []
    reason = _growth_reason(deciding, m.trends[deciding])
    if deciding in ("py_blocks", "native_heap"):
        for resource in RESOURCE_KINDS:  # the scarcer resource names the leak
            tr = m.trends.get(resource)
            if tr is not None and tr.growing and tr.slope > 0:
                notes.append(
                    f"{deciding} grew too (the objects that hold the {resource}); "
                    f"{resource} grew by {tr.slope:.3g} per call and name the leak"
                )
                deciding = resource
                break
    if window is not None and deciding in window.trends:
        wt = window.trends[deciding]
        if not wt.significant and wt.slope < 0.2 * m.trends[deciding].slope:
            return Decision(
                "clean",
                f"{deciding} grew during the {m.rounds} measured rounds but stopped in the "
                "confirmation window: a structure that filled up, not a leak",
            )
    kind = _KINDS[deciding]
    if deciding == "native_heap" and _traced_too(window):
        kind = "python"
        notes.append(
            "the native heap decided, but tracemalloc saw the same growth: memory "
            "allocated through Python (a container's item storage, for example)"
        )
    elif deciding == "native_heap":
        notes.append(
            "native leak: the glibc heap grew while Python's allocated blocks did "
            "not; memory malloc'd by C code (ctypes, a C extension) is never freed. "
            "tracemalloc cannot see it, so no Python allocation site or retention "
            "path applies"
        )
    per_call = _bytes(deciding, m, window)
    if kind in RESOURCE_KINDS:  # no byte budget covers descriptors or threads
        severity = resource_severity(m.trends[deciding].slope * 1000.0)
        return Decision("leak", reason, deciding, kind, severity, per_call, tuple(notes))
    per_1000 = per_call[0] * 1000.0
    return Decision(
        "leak" if per_1000 > budget or budget <= 0 else "growth",  # a budget of 0 allows no growth
        reason,
        deciding,
        kind,
        severity_for(True, per_1000, thresholds),
        per_call,
        tuple(notes),
    )


def _estimate(
    name: str, tr: Trend, samples: np.ndarray, *, role: str, decided: bool, note: str
) -> GrowthEstimate:
    """Trends are fitted against cumulative calls: their slopes are per call already."""
    return GrowthEstimate(
        signal=name,
        unit=SIGNAL_UNITS.get(name, "bytes"),
        per_iteration=tr.slope,
        low=tr.low,
        high=tr.high,
        p_value=tr.p_value,
        shape=tr.shape,
        significant=tr.significant,
        persistent=tr.persistent,
        role=role,  # type: ignore[arg-type]
        decided=decided,
        note=note,
        samples=samples,
    )


def _estimates(m: Measurement, window: Attribution | None, d: Decision) -> list[GrowthEstimate]:
    estimates: list[GrowthEstimate] = []
    for name in m.names:
        tr = m.trends.get(name)
        if tr is None:
            continue
        decided = d.grew and name == d.deciding
        if name == "rss":
            confirms = d.grew and tr.growing
            note = "never decides alone (allocator noise); " + (
                "confirms the growth"
                if confirms
                else "does not confirm the growth"
                if d.grew
                else "no verdict from it"
            )
            role = "confirms"
        else:
            note = "decided the verdict" if decided else SHAPE_NOTES.get(tr.shape, tr.shape)
            role = "decides"
        estimates.append(_estimate(name, tr, m.series(name), role=role, decided=decided, note=note))
    py = window.trends.get("py_heap") if window is not None else None
    if window is not None and py is not None:
        estimates.append(
            _estimate(
                "py_heap",
                py,
                window.window["py_heap"],
                role="context",
                decided=False,
                note="bytes traced by tracemalloc in the attribution window",
            )
        )
    return estimates


def build_report(
    target: str,
    m: Measurement,
    window: Attribution | None,
    notes: list[str],
    *,
    budget: int,
    duration: float,
    expected_raised: int = 0,
    thresholds: dict[str, int],
) -> LeakReport:
    """The report of a measurement: :func:`decide`'s verdict with the figures behind it."""
    d = decide(m, window, budget=budget, thresholds=thresholds)
    all_notes = [*notes, *m.notes, *d.notes]
    if expected_raised:
        all_notes.append(f"expected exceptions were raised {expected_raised} times and swallowed")
    grew = d.grew
    bytes_mid, bytes_low, bytes_high = d.bytes_per_call
    return LeakReport(
        target=target,
        verdict=d.verdict,
        reason=d.reason,
        leak_detected=grew,
        severity=d.severity,
        kind=d.kind,
        deciding_signal=d.deciding,
        signals=tuple(_estimates(m, window, d)),
        bytes_per_iteration=bytes_mid,
        bytes_low=bytes_low,
        bytes_high=bytes_high,
        max_growth=int(budget),
        max_growth_text=budget.typed if isinstance(budget, Size) else "",
        iterations=m.calls,
        warmup_iterations=m.warmup_calls,
        rounds=m.rounds,
        batch_size=m.batch,
        duration=duration,
        seconds_per_call=m.seconds_per_call,
        sites=window.sites if window and grew else (),
        types=window.types if window and grew else (),
        retention_paths=window.paths if window and grew else (),
        notes=tuple(all_notes + (window.notes if window else [])),
        thresholds=dict(thresholds),
        attribution_seconds=window.seconds if window else 0.0,
    )


def _traced_too(window: Attribution | None) -> bool:
    """Did tracemalloc see at least half of the native heap's growth in the window?"""
    if window is None or "py_heap" not in window.window or "native_heap" not in window.window:
        return False
    py, nat = window.window["py_heap"], window.window["native_heap"]
    native_growth = float(nat[-1] - nat[0])
    return native_growth > 0 and float(py[-1] - py[0]) >= 0.5 * native_growth


def _bytes(deciding: str, m: Measurement, window: Attribution | None) -> tuple[float, float, float]:
    candidates: list[tuple[float, float, float]] = []
    native = m.trends.get("native_heap")
    if native is not None and (deciding == "native_heap" or native.growing):
        candidates.append((native.slope, native.low, native.high))
    if deciding != "native_heap" and window is not None and "py_heap" in window.trends:
        # The median per-round increment resists one container reallocation in a short
        # window better than a line through six points; the interval stays Theil–Sen's.
        py = window.trends["py_heap"]
        increments = np.diff(window.window["py_heap"]) / max(window.batch, 1)
        mid = float(np.median(increments))
        candidates.append((mid, min(py.low, mid), max(py.high, mid)))
    if not candidates:
        return 0.0, 0.0, 0.0
    mid, low, high = max(candidates)
    return max(mid, 0.0), max(low, 0.0), max(high, 0.0)
