"""Turn a measurement (and its attribution windows) into a :class:`LeakReport`.

Rules, in order:

- The measurement's provisional verdict stands unless the tracemalloc window
  contradicts it: a deciding signal that grew during the rounds but not during the
  window (less than a fifth of its rate, and no significant trend) belonged to a
  structure that filled up, so the verdict becomes "clean".
- Bytes per call: the native heap's slope when it decided; otherwise the traced
  Python heap's median increment per call in the window (with Theil–Sen's interval),
  or the native heap's slope when that is larger (numpy buffers show in both).
- RSS never decides; it is reported as confirming or not.
"""

from __future__ import annotations

import numpy as np

from memwatch.leaks.attribution import Attribution
from memwatch.leaks.engine import SIGNAL_UNITS, Measurement
from memwatch.model.leaks import (
    RESOURCE_KINDS,
    GrowthEstimate,
    LeakReport,
    resource_severity,
    severity_for,
)
from memwatch.stats.trend import Trend

__all__ = ["SHAPE_NOTES", "build_report"]

SHAPE_NOTES: dict[str, str] = {
    "flat": "flat: no rise beyond noise from stretch to stretch",
    "plateau": "plateau: grew at first, then stayed flat (a cache or pool that filled up)",
    "step": "step: one rise with flat stretches before and after (a one-time allocation)",
    "sawtooth": "sawtooth: rises and falls (a buffer that is cleared periodically)",
    "shrinking": "shrinking: memory was released over the run",
    "irregular": "rose on some stretches but not on every one",
    "growing": "grows too, but a signal earlier in the order decided",
}
_KINDS = {"py_blocks": "python", "native_heap": "native", "fds": "fds", "threads": "threads"}


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
    verdict, deciding, reason = m.verdict, m.deciding, m.reason
    all_notes = [*notes, *m.notes]
    if verdict == "leak" and deciding in ("py_blocks", "native_heap"):
        for resource in ("fds", "threads"):  # the scarcer resource names the leak
            tr = m.trends.get(resource)
            if tr is not None and tr.growing and tr.slope > 0:
                all_notes.append(
                    f"{deciding} grew too (the objects that hold the {resource}); "
                    f"{resource} grew by {tr.slope:.3g} per call and name the leak"
                )
                deciding = resource
                break
    if expected_raised:
        all_notes.append(f"expected exceptions were raised {expected_raised} times and swallowed")
    if verdict == "leak" and window is not None and deciding in window.trends:
        wt = window.trends[deciding]
        rate = m.trends[deciding].slope
        if not wt.significant and wt.slope < 0.2 * rate:
            verdict = "clean"
            reason = (
                f"{deciding} grew during the {m.rounds} measured rounds but stopped in the "
                "confirmation window: a structure that filled up, not a leak"
            )
            deciding = ""
    estimates: list[GrowthEstimate] = []
    for name in m.names:
        tr = m.trends.get(name)
        if tr is None:
            continue
        decided = verdict == "leak" and name == deciding
        if name == "rss":
            confirms = verdict == "leak" and tr.growing
            note = "never decides alone (allocator noise); " + (
                "confirms the leak"
                if confirms
                else "does not confirm a leak"
                if verdict == "leak"
                else "no verdict from it"
            )
            role = "confirms"
        else:
            note = "decided the verdict" if decided else SHAPE_NOTES.get(tr.shape, tr.shape)
            role = "decides"
        estimates.append(_estimate(name, tr, m.series(name), role=role, decided=decided, note=note))
    bytes_mid = bytes_low = bytes_high = 0.0
    if window is not None:
        py = window.trends.get("py_heap")
        if py is not None:
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
    if verdict == "leak":
        bytes_mid, bytes_low, bytes_high = _bytes(deciding, m, window)
    leak = verdict == "leak"
    kind = _KINDS.get(deciding, "none") if leak else "none"
    if leak and deciding == "native_heap" and _traced_too(window):
        kind = "python"
        all_notes.append(
            "the native heap decided, but tracemalloc saw the same growth: memory "
            "allocated through Python (a container's item storage, for example)"
        )
    elif leak and deciding == "native_heap":
        all_notes.append(
            "native leak: the glibc heap grew while Python's allocated blocks did "
            "not; memory malloc'd by C code (ctypes, a C extension) is never freed. "
            "tracemalloc cannot see it, so no Python allocation site or retention "
            "path applies"
        )
    if m.rounds == 0 and not reason:
        reason = "no rounds were measured"
    return LeakReport(
        target=target,
        verdict=verdict,  # type: ignore[arg-type]
        reason=reason,
        leak_detected=leak,
        severity=(
            resource_severity(m.trends[deciding].slope * 1000.0)
            if kind in RESOURCE_KINDS
            else severity_for(leak, bytes_mid * 1000.0, thresholds)
        ),
        kind=kind,  # type: ignore[arg-type]
        deciding_signal=deciding if leak else "",
        signals=tuple(estimates),
        bytes_per_iteration=bytes_mid,
        bytes_low=bytes_low,
        bytes_high=bytes_high,
        max_growth=budget,
        iterations=m.calls,
        warmup_iterations=m.warmup_calls,
        rounds=m.rounds,
        batch_size=m.batch,
        duration=duration,
        seconds_per_call=m.seconds_per_call,
        sites=window.sites if window and leak else (),
        types=window.types if window and leak else (),
        retention_paths=window.paths if window and leak else (),
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
