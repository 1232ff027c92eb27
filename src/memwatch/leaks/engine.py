"""The measurement protocol: warm up, measure in rounds, stop when confident.

:func:`measure` is a generator that yields "run n more calls" and returns a
:class:`Measurement`; it never calls the operation itself, so one protocol serves
plain functions and coroutines (see :mod:`memwatch.leaks.operation`).

1. Time one call, then a small batch, and choose the batch size ``B``: a round of
   about 1 ms of calls, at least 10 calls (a multiple of 10, so a leak "every 10th
   call" grows the same on every round), fewer when the budget says so.
2. Warm up: batches until allocated blocks and the native heap stop changing for
   two batches in a row (bounded), or exactly ``warmup`` calls when given.
3. ``gc.collect()`` then ``gc.freeze()``: everything alive before measuring moves to
   the permanent generation, so the per-round full collection costs microseconds
   instead of milliseconds. Unfrozen at the end.
4. Rounds: ``B`` calls, ``gc.collect()``, read the cheap signals into a preallocated
   array (the measurement itself must not allocate per round). From round 8 on,
   the trend tests of :mod:`memwatch.stats.trend` run on every deciding signal; the
   protocol stops at the first confident verdict, or at the round / call / time cap.
"""

from __future__ import annotations

import gc
import math
import sys
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np

from memwatch.probes import native, process
from memwatch.stats.trend import Trend, assess

__all__ = ["DECIDING", "SIGNAL_UNITS", "Measurement", "Plan", "evaluate", "measure", "readers", "settle"]

#: Signals that may decide a verdict, in priority order; RSS only confirms.
DECIDING: tuple[str, ...] = ("py_blocks", "native_heap", "fds", "threads")
CONFIRMING: tuple[str, ...] = ("rss",)
SIGNAL_UNITS: dict[str, str] = {"py_blocks": "count", "native_heap": "bytes", "fds": "count",
                                "threads": "count", "rss": "bytes"}
#: Smallest rise of a stretch level that counts as growth, per signal (its unit).
MIN_RISE: dict[str, float] = {"py_blocks": 1.0, "native_heap": 4096.0, "fds": 0.5,
                              "threads": 0.5, "rss": 262144.0}
SETTLED_SHAPES = frozenset({"flat", "plateau", "step", "sawtooth", "shrinking"})


@dataclass(frozen=True)
class Plan:
    """Budgets of one measurement. ``iterations`` caps measured calls (None: adaptive)."""

    iterations: int | None = None
    warmup: int | None = None
    time_budget: float = 10.0
    signals: tuple[str, ...] = DECIDING + CONFIRMING
    min_rounds: int = 8
    max_rounds: int = 48
    alpha: float = 0.01
    stretches: int = 4
    round_seconds: float = 0.001
    max_warmup_batches: int = 5


@dataclass
class Measurement:
    """What the rounds showed; ``verdict`` is provisional until attribution confirms."""

    names: tuple[str, ...]
    data: np.ndarray
    rounds: int = 0
    batch: int = 1
    warmup_calls: int = 0
    calls: int = 0
    seconds_per_call: float = 0.0
    verdict: str = "inconclusive"
    deciding: str = ""
    reason: str = ""
    trends: dict[str, Trend] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def series(self, name: str) -> np.ndarray:
        return self.data[: self.rounds + 1, self.names.index(name)].copy()


def readers(signals: tuple[str, ...]) -> tuple[dict[str, Callable[[], float]], list[str]]:
    """Zero-argument readers for the wanted signals that work here, and notes on the rest."""
    table: dict[str, Callable[[], float]] = {
        "py_blocks": lambda: float(sys.getallocatedblocks()),
        "native_heap": lambda: float(native.native_heap_bytes()),
        "fds": lambda: float(process.open_fds()),
        "threads": lambda: float(process.thread_count()),
        "rss": lambda: float(process.rss()),
    }
    out: dict[str, Callable[[], float]] = {}
    notes: list[str] = []
    for name in signals:
        if name == "native_heap" and native.native_reason():
            notes.append(f"native_heap unavailable: {native.native_reason()}")
            continue
        out[name] = table[name]
    return out, notes


def _read_into(row: np.ndarray, funcs: list[Callable[[], float]]) -> None:
    for i, func in enumerate(funcs):
        row[i] = func()


def _choose_batch(per_call: float, plan: Plan) -> int:
    batch = max(10, math.ceil(plan.round_seconds / max(per_call, 1e-9)))
    batch = min(batch, 20_000)
    rounds_wanted = 2 * plan.min_rounds
    if plan.iterations is not None:
        batch = min(batch, max(1, plan.iterations // rounds_wanted))
    affordable = int(plan.time_budget * 0.5 / max(per_call * rounds_wanted, 1e-12))
    batch = max(1, min(batch, affordable))
    return batch - batch % 10 if batch >= 20 else batch


def settle(freeze: bool) -> None:
    """Full collection; then, when allowed, freeze the survivors so the next one is cheap."""
    gc.collect()
    if freeze:
        gc.freeze()


def measure(plan: Plan, *, freeze: bool = True, clock: Callable[[], float] = time.perf_counter
            ) -> Generator[int, None, Measurement]:
    """The protocol; see the module docstring. Yields batch sizes, returns the measurement.

    With ``freeze`` the caller owns the frozen generation and must ``gc.unfreeze()``
    afterwards (also on error). Garbage cycles that formed among frozen objects are
    only collected after unfreezing, so a suspected leak is re-checked with a full,
    unfrozen collection before it stands; if that undoes the growth, the rounds are
    measured again without freezing.
    """
    funcs_by_name, notes = readers(plan.signals)
    names = tuple(funcs_by_name)
    funcs = list(funcs_by_name.values())
    result = Measurement(names=names, data=np.full((plan.max_rounds + 1, len(names)), np.nan),
                         notes=notes)
    start = clock()
    settle(freeze)
    t0 = clock()
    yield 1
    first = clock() - t0
    calls = 1
    if first > plan.time_budget:
        result.seconds_per_call = first
        result.warmup_calls = calls
        result.reason = (f"one call took {first:.3g} s, longer than the time budget of "
                         f"{plan.time_budget:g} s: no rounds could be measured")
        return result
    probe = max(1, min(1000, math.ceil(plan.round_seconds / max(first, 1e-9))))
    if plan.warmup is not None:
        probe = min(probe, max(plan.warmup - 1, 0))
    per_call = first
    if probe:
        t0 = clock()
        yield probe
        per_call = (clock() - t0) / probe
        calls += probe
    batch = _choose_batch(per_call, plan)
    calls += yield from _warm_up(plan, batch, calls, funcs, names, start, freeze, clock)
    result.warmup_calls = calls
    result.batch = batch
    settle(freeze)
    raw = np.empty(len(funcs))
    after = np.empty(len(funcs))
    # What memwatch's own statistics leave behind between rounds (numpy and scipy keep
    # small caches) is measured and subtracted, so it never reads as the operation's growth.
    offset = np.zeros(len(funcs))
    _read_into(result.data[0], funcs)
    spent = np.zeros(plan.max_rounds)
    out_of_time = False
    rnd = 0
    while rnd < plan.max_rounds:
        rnd += 1
        t0 = clock()
        yield batch
        spent[rnd - 1] = clock() - t0
        settle(freeze)
        _read_into(raw, funcs)
        np.subtract(raw, offset, out=result.data[rnd])
        result.rounds = rnd
        result.calls = rnd * batch
        out_of_time = clock() - start > plan.time_budget
        out_of_calls = plan.iterations is not None and result.calls + batch > plan.iterations
        final = out_of_time or out_of_calls or rnd == plan.max_rounds
        if rnd >= plan.min_rounds:
            result.seconds_per_call = float(np.median(spent[:rnd])) / batch
            if evaluate(result, plan, final=final):
                if (result.verdict != "leak" or not freeze
                        or _survives_unfreeze(result, plan, funcs, offset)):
                    return result
                # The growth was garbage frozen before it died: measure again, unfrozen.
                freeze = False
                gc.unfreeze()
                result.warmup_calls += result.calls
                result.notes.append("frozen garbage cycles undid the first rounds; "
                                    "measured again without gc.freeze")
                result.verdict, result.deciding = "inconclusive", ""
                result.data[1:] = np.nan
                result.rounds = rnd = 0
                settle(freeze)
                _read_into(raw, funcs)
                np.subtract(raw, offset, out=result.data[0])
                continue
            settle(freeze)
            _read_into(after, funcs)
            offset += after
            offset -= raw
        if final:
            break
    result.seconds_per_call = float(np.median(spent[:max(rnd, 1)])) / batch
    result.verdict = "inconclusive"
    limit = f"time budget of {plan.time_budget:g} s" if out_of_time else "iteration cap"
    result.reason = (f"only {result.rounds} rounds of {batch} calls fit in the {limit}; "
                     f"at least {plan.min_rounds} are needed for a verdict")
    return result


def _survives_unfreeze(result: Measurement, plan: Plan, funcs: list[Callable[[], float]],
                       offset: np.ndarray) -> bool:
    """Unfreeze, collect everything, re-read the last round: does the leak still show?"""
    gc.unfreeze()
    gc.collect()
    row = result.data[result.rounds]
    _read_into(row, funcs)
    row -= offset
    gc.freeze()
    return evaluate(result, plan, final=True) and result.verdict == "leak"


def _warm_up(plan: Plan, batch: int, done: int, funcs: list[Callable[[], float]],
             names: tuple[str, ...], start: float, freeze: bool,
             clock: Callable[[], float]) -> Generator[int, None, int]:
    """Warm-up calls; returns how many were made."""
    calls = 0
    if plan.warmup is not None:
        remaining = max(plan.warmup - done, 0)
        while remaining > 0:
            step = min(batch, remaining)
            yield step
            calls += step
            remaining -= step
        return calls
    prev = np.empty(len(funcs))
    cur = np.empty(len(funcs))
    settle(freeze)
    _read_into(prev, funcs)
    stable = 0
    for _ in range(plan.max_warmup_batches):
        yield batch
        calls += batch
        settle(freeze)
        _read_into(cur, funcs)
        if _settled(prev, cur, names):
            stable += 1
            if stable >= 2:
                break
        else:
            stable = 0
        prev, cur = cur, prev
        if clock() - start > plan.time_budget * 0.25:
            break
    return calls


def _settled(prev: np.ndarray, cur: np.ndarray, names: tuple[str, ...]) -> bool:
    """True when allocated blocks and the native heap (where read) did not move."""
    for i, name in enumerate(names):
        if name in ("py_blocks", "native_heap") and abs(cur[i] - prev[i]) > MIN_RISE[name]:
            return False
    return True


def evaluate(result: Measurement, plan: Plan, *, final: bool) -> bool:
    """Run the trend tests; set the verdict and return True when it is confident (or final)."""
    trends = {name: assess(result.series(name), alpha=plan.alpha, stretches=plan.stretches,
                           min_rise=MIN_RISE[name]) for name in result.names}
    result.trends = trends
    deciding = [name for name in DECIDING if name in trends]
    growing = [name for name in deciding if trends[name].growing]
    if growing:
        name = growing[0]
        tr = trends[name]
        result.verdict, result.deciding = "leak", name
        result.reason = (f"{name} grew on every one of {len(tr.levels)} stretches "
                         f"(Mann–Kendall p={tr.p_value:.2g}, Theil–Sen "
                         f"{tr.slope / result.batch:.3g}/call, 95% CI "
                         f"[{tr.low / result.batch:.3g}, {tr.high / result.batch:.3g}])")
        return True
    settled = all(trends[name].shape in SETTLED_SHAPES for name in deciding)
    if not settled and not final:
        return False
    unsettled = [name for name in deciding if trends[name].shape not in SETTLED_SHAPES]
    if unsettled and any(trends[name].significant for name in unsettled):
        name = unsettled[0]
        result.verdict = "inconclusive"
        result.reason = (f"{name} rose on some stretches but not all "
                         f"(levels {', '.join(f'{v:.4g}' for v in trends[name].levels)}); "
                         "more iterations or a longer time budget may decide")
        return True
    result.verdict = "clean"
    shapes = ", ".join(f"{name} {trends[name].shape}" for name in deciding)
    result.reason = f"no signal grew on every stretch ({shapes})"
    return True
