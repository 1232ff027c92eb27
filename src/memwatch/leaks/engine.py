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
   the permanent generation, so a full collection during the rounds only walks the
   objects created since (microseconds for a clean operation, instead of the
   milliseconds a whole heap costs). Unfrozen at the end.
4. Rounds: about ``B`` calls (jittered by up to 25%, so a periodic buffer cannot
   alias into a trend; slopes are fitted against cumulative calls), ``gc.collect()``,
   read the cheap signals into a preallocated array (the measurement itself must not
   allocate per round; what the statistics leave behind is measured and subtracted). From round 8 on,
   the trend tests of :mod:`memwatch.stats.trend` run on every deciding signal; the
   protocol stops at the first confident finding, or at the round / call / time cap.

The measurement only says what the trend tests found (:attr:`Measurement.finding`);
the verdict (leak, growth within the budget, clean, inconclusive) is decided once, by
:func:`memwatch.leaks.verdict.decide`.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from memwatch.probes import native, process
from memwatch.probes import python as pyprobe
from memwatch.stats.trend import Trend, assess, stretch_levels, theil_sen

__all__ = ["DECIDING", "SIGNAL_UNITS", "Measurement", "Plan", "evaluate", "measure", "readers", "settle"]

#: Signals that may decide a verdict, in priority order; RSS only confirms.
DECIDING: tuple[str, ...] = ("py_blocks", "native_heap", "fds", "threads")
CONFIRMING: tuple[str, ...] = ("rss",)
SIGNAL_UNITS: dict[str, str] = {
    "py_blocks": "count",
    "native_heap": "bytes",
    "fds": "count",
    "threads": "count",
    "rss": "bytes",
}
#: Smallest rise of a stretch level that counts as growth, per signal (its unit).
MIN_RISE: dict[str, float] = {
    "py_blocks": 1.0,
    "native_heap": 4096.0,
    "fds": 0.5,
    "threads": 0.5,
    "rss": 262144.0,
}
SETTLED_SHAPES = frozenset({"flat", "plateau", "step", "sawtooth", "shrinking"})
#: Relative batch sizes of the rounds: 0.75 to 1.25, fixed so that runs are reproducible.
_JITTER = np.random.default_rng(20261121).uniform(0.75, 1.25, 1024)


@dataclass(frozen=True)
class Plan:
    """Budgets of one measurement. ``iterations`` caps measured calls (None: adaptive)."""

    iterations: int | None = None
    warmup: int | None = None
    time_budget: float = 10.0
    signals: tuple[str, ...] = DECIDING + CONFIRMING
    min_rounds: int = 8
    max_rounds: int = 48
    #: A growing signal ends the rounds early only after this many measured calls: with
    #: fewer, a cache still warming up looks like a straight line.
    min_calls: int = 1000
    alpha: float = 0.01
    stretches: int = 4
    round_seconds: float = 0.001
    max_warmup_batches: int = 5
    #: RSS growth after which the rounds stop early (a big leak is obvious long before).
    memory_cap: int = 256 * 2**20


Finding = Literal["", "growing", "irregular", "settled", "decelerating", "few_calls"]

#: Growth whose second half is slower than this fraction of its first half is decelerating.
DECELERATION = 0.5
#: Growth cut short by the time budget (fewer than ``Plan.min_calls`` calls) is steady, and
#: so a leak, only when its second half grows at least this fraction of its first half's
#: rate; between DECELERATION and this it could be either (a cache filling ever more slowly,
#: seen through few rounds), and the verdict says so rather than flip with the call count.
STEADY = 0.7
#: Share of the time budget the rounds may use when nothing else is known: the rest is
#: kept for the attribution window and the retention paths, so the whole check stays
#: within the budget.
ROUNDS_SHARE = 0.7


@dataclass
class Measurement:
    """What the rounds showed, before any verdict.

    ``finding`` is ``"growing"`` (``signal`` rose on every stretch), ``"decelerating"``
    (it rose on every stretch, but ever more slowly: ``slowing`` holds the early and
    late slopes per call, and the time budget ran out before it settled or kept on at
    the late rate), ``"few_calls"`` (it rose on every stretch, but the time budget
    allowed fewer than half of ``Plan.min_calls``: too few to tell), ``"irregular"
    (``signal`` rose on some stretches, significantly, but not all), ``"settled"``
    (every deciding signal flat, a plateau, a step, a sawtooth or shrinking) or ``""``
    (too few rounds for the trend tests: ``shortfall`` says why).
    """

    names: tuple[str, ...]
    data: np.ndarray
    x: np.ndarray = field(default_factory=lambda: np.zeros(1))
    rounds: int = 0
    batch: int = 1
    warmup_calls: int = 0
    calls: int = 0
    seconds_per_call: float = 0.0
    finding: Finding = ""
    signal: str = ""
    shortfall: str = ""
    slowing: tuple[float, float] = (0.0, 0.0)
    seconds: float = 0.0
    trends: dict[str, Trend] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def series(self, name: str) -> np.ndarray:
        return self.data[: self.rounds + 1, self.names.index(name)].copy()

    def calls_axis(self) -> np.ndarray:
        """Cumulative measured calls at each reading (0 at the baseline)."""
        return self.x[: self.rounds + 1].copy()


def readers(signals: tuple[str, ...]) -> tuple[dict[str, Callable[[], float]], list[str]]:
    """Zero-argument readers for the wanted signals that work here, and notes on the rest."""
    table: dict[str, Callable[[], float]] = {
        "py_blocks": lambda: float(pyprobe.allocated_blocks()),
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


def _native_now() -> int:
    return native.native_heap_bytes() if not native.native_reason() else 0


_CAPPED = "stopped early: the process grew by more than the memory cap during the rounds"


def _choose_batch(per_call: float, plan: Plan, bytes_per_call: float = 0.0) -> int:
    """Calls per round: ~``round_seconds`` of them, at least 10, within the call, time and
    memory budgets (``bytes_per_call``: RSS or native heap growth per call seen so far)."""
    rounds_wanted = 2 * plan.min_rounds
    floor = _quantize(math.ceil(plan.min_calls / rounds_wanted), up=True)
    batch = max(10, math.ceil(plan.round_seconds / max(per_call, 1e-9)), floor)
    batch = min(batch, 20_000)
    if plan.iterations is not None:
        batch = min(batch, max(1, plan.iterations // rounds_wanted))
    affordable = int(plan.time_budget * 0.5 / max(per_call * rounds_wanted, 1e-12))
    # When the rounds' share of the budget holds the minimum calls with room to spare, the
    # batch must let max_rounds reach them: otherwise the round cap, not the evidence, ends
    # a slow operation's rounds, and where it ends moves with the machine's load.
    reach = _quantize(math.ceil(plan.min_calls / plan.max_rounds), up=True)
    if per_call * plan.min_calls * 1.5 <= plan.time_budget * ROUNDS_SHARE:
        affordable = max(affordable, reach)
    if bytes_per_call > 0:  # warm-up, rounds and the window must fit in the memory cap
        planned = plan.max_warmup_batches + rounds_wanted + 8
        affordable = min(affordable, int(plan.memory_cap / (bytes_per_call * planned)))
    batch = max(1, min(batch, affordable))
    return _quantize(batch)


def _quantize(batch: int, up: bool = False) -> int:
    """The largest 1-2-5 number (1, 2, 5, 10, 20, 50, ...) not above ``batch`` (the smallest
    not below it with ``up``, for a batch that is a floor rather than a ceiling).

    Timing on a loaded machine moves the batch by tens of percent; on this coarse scale
    most runs pick the same one, so the rounds (and so the verdict) do not follow the
    load. From 10 up every size is a multiple of 10 (a leak "every 10th call" grows
    the same on every round).
    """
    scale = 1
    while scale * 10 <= batch:
        scale *= 10
    for step in (5, 2, 1):
        if step * scale <= batch:
            low = step * scale
            break
    else:
        low = 1
    if up and low < batch:
        return {1: 2, 2: 5, 5: 10}[low // scale] * scale
    return low


def settle(freeze: bool) -> None:
    """Collect garbage; then, when allowed, freeze the survivors so later collections skip them."""
    gc.collect()
    if freeze:
        gc.freeze()


def measure(
    plan: Plan, *, freeze: bool = True, clock: Callable[[], float] = time.perf_counter
) -> Generator[int, None, Measurement]:
    """The protocol; see the module docstring. Yields batch sizes, returns the measurement.

    With ``freeze`` the caller owns the frozen generation and must ``gc.unfreeze()``
    afterwards (also on error). Objects are frozen only at the start and at the
    baseline, never during the rounds: an object frozen while alive and dropped later
    in a cycle stays until unfrozen, and freezing every round would turn a buffer of
    cyclic items that is cleared periodically into apparent growth. Frozen before the
    baseline, such garbage is a constant offset, which no trend test sees.
    """
    funcs_by_name, notes = readers(plan.signals)
    names = tuple(funcs_by_name)
    funcs = list(funcs_by_name.values())
    result = Measurement(
        names=names,
        data=np.full((plan.max_rounds + 1, len(names)), np.nan),
        x=np.zeros(plan.max_rounds + 1),
        notes=notes,
    )
    start = clock()
    if freeze:
        gc.freeze()  # no full collection first: frozen garbage is constant, and that is cheap
    rss0 = process.rss()
    heap0 = _native_now()
    t0 = clock()
    yield 1
    first = clock() - t0
    calls = 1
    if first > plan.time_budget:
        result.seconds_per_call = first
        result.warmup_calls = calls
        result.shortfall = (
            f"one call took {first:.3g} s, longer than the time budget of "
            f"{plan.time_budget:g} s: no rounds could be measured"
        )
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
    gc.collect()
    grown = max(process.rss() - rss0, _native_now() - heap0)
    batch = _choose_batch(per_call, plan, grown / calls)
    warm_calls, warm_seconds = yield from _warm_up(plan, batch, calls, funcs, names, start, clock)
    calls += warm_calls
    if warm_calls and plan.iterations is None:
        # The first calls of an operation are often its slowest (caches filling, code
        # compiled); the warm-up's pace is the better estimate, so the rounds can reach
        # the minimum calls their time allows. Never smaller than the batch warmed up with.
        batch = max(batch, _choose_batch(warm_seconds / warm_calls, plan, grown / calls))
    result.warmup_calls = calls
    result.batch = batch
    settle(freeze)
    raw = np.empty(len(funcs))
    after = np.empty(len(funcs))
    # What memwatch's own statistics leave behind between rounds (numpy and scipy keep
    # small caches) is measured and subtracted, so it never reads as the operation's growth.
    offset = np.zeros(len(funcs))
    # Batch sizes vary by up to 25% around the batch (a fixed, seeded sequence): a buffer
    # cleared every P calls cannot alias with a constant batch into a slow apparent trend.
    sizes = _round_sizes(batch, plan)
    # With an iteration count the rounds make exactly that many calls, and the trend tests run
    # once, at the end: stopping at the first confident finding would measure fewer calls.
    exact = plan.iterations is not None
    last = len(sizes)
    _read_into(result.data[0], funcs)
    spent = np.zeros(plan.max_rounds)
    out_of_time = False
    rnd = 0
    while rnd < last:
        rnd += 1
        size = int(sizes[rnd - 1])
        t0 = clock()
        yield size
        spent[rnd - 1] = (clock() - t0) / size
        gc.collect()
        _read_into(raw, funcs)
        np.subtract(raw, offset, out=result.data[rnd])
        result.rounds = rnd
        result.calls += size
        result.x[rnd] = result.calls
        out_of_time = clock() - start > plan.time_budget * ROUNDS_SHARE
        capped = max(process.rss() - rss0, _native_now() - heap0) > plan.memory_cap
        final = out_of_time or capped or rnd == last
        if capped:
            result.notes.append(_CAPPED)
        if rnd >= plan.min_rounds and (final or not exact):
            result.seconds_per_call = float(np.median(spent[:rnd]))
            if evaluate(result, plan, final=final, out_of_time=out_of_time):
                result.seconds = clock() - start
                return result
            gc.collect()
            _read_into(after, funcs)
            offset += after
            offset -= raw
        if final:
            break
    result.seconds_per_call = float(np.median(spent[: max(rnd, 1)]))
    result.seconds = clock() - start
    result.finding = ""
    limit = f"time budget of {plan.time_budget:g} s" if out_of_time else "iteration cap"
    calls_text = f"{batch} call" + ("s" if batch != 1 else "")
    result.shortfall = (
        f"only {result.rounds} rounds of about {calls_text} fit in the {limit}; "
        f"at least {plan.min_rounds} are needed for a verdict"
    )
    return result


def _round_sizes(batch: int, plan: Plan) -> np.ndarray:
    """Calls per round: about ``batch``, jittered; with ``plan.iterations``, as many rounds
    (at most ``max_rounds``) as make exactly that many calls in all."""
    if plan.iterations is None:
        return np.maximum(1, np.round(batch * _JITTER[: plan.max_rounds])).astype(np.int64)
    total = plan.iterations
    rounds = max(1, min(plan.max_rounds, math.ceil(total / max(batch, 1))))
    # too few calls per round to jitter without empty rounds: even rounds
    weights = np.ones(rounds) if total // rounds < 2 else _JITTER[:rounds]
    ends = np.round(total * np.cumsum(weights) / weights.sum()).astype(np.int64)
    ends[-1] = total
    return np.diff(np.concatenate(([0], ends)))


def _warm_up(
    plan: Plan,
    batch: int,
    done: int,
    funcs: list[Callable[[], float]],
    names: tuple[str, ...],
    start: float,
    clock: Callable[[], float],
) -> Generator[int, None, tuple[int, float]]:
    """Warm-up calls; returns how many were made and the seconds they took (no collections)."""
    calls = 0
    seconds = 0.0
    if plan.warmup is not None:
        remaining = max(plan.warmup - done, 0)
        while remaining > 0:
            step = min(batch, remaining)
            t0 = clock()
            yield step
            seconds += clock() - t0
            calls += step
            remaining -= step
        return calls, seconds
    prev = np.empty(len(funcs))
    cur = np.empty(len(funcs))
    gc.collect()
    _read_into(prev, funcs)
    stable = 0
    for _ in range(plan.max_warmup_batches):
        t0 = clock()
        yield batch
        seconds += clock() - t0
        calls += batch
        gc.collect()
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
    return calls, seconds


def _settled(prev: np.ndarray, cur: np.ndarray, names: tuple[str, ...]) -> bool:
    """True when allocated blocks and the native heap (where read) did not move."""
    for i, name in enumerate(names):
        if name in ("py_blocks", "native_heap") and abs(cur[i] - prev[i]) > MIN_RISE[name]:
            return False
    return True


def _slowing(y: np.ndarray, x: np.ndarray) -> tuple[float, float] | None:
    """(early, late) slopes per call when growth decelerates, else None.

    Decelerating: the Theil–Sen slope of the second half of the rounds is below
    :data:`DECELERATION` times the first half's, and the rises between the four
    stretches' levels never speed up. A steady leak passes both halves at about the
    same slope, whatever the noise of a few rounds.
    """
    n = int(y.size)
    if n < 8:
        return None
    half = n // 2
    early = theil_sen(y[: half + 1], x[: half + 1])[0]
    late = theil_sen(y[half:], x[half:])[0]
    if early <= 0 or late >= DECELERATION * early:
        return None
    rises = np.diff(stretch_levels(y, 4))
    if rises.size and bool(np.any(np.diff(rises) > 0.25 * abs(rises[0]))):
        return None
    return early, late


def _steady(y: np.ndarray, x: np.ndarray) -> bool:
    """True when the second half of the rounds grows at :data:`STEADY` or more of the
    first half's rate (Theil–Sen slopes): a line, not a curve bending over."""
    if y.size < 8:
        return True  # too few rounds for halves: the trend tests alone decide
    half = int(y.size) // 2
    early = theil_sen(y[: half + 1], x[: half + 1])[0]
    late = theil_sen(y[half:], x[half:])[0]
    return bool(early > 0 and late >= STEADY * early)


def evaluate(result: Measurement, plan: Plan, *, final: bool, out_of_time: bool = False) -> bool:
    """Run the trend tests and set the finding; True when the rounds may stop (a
    signal grows on every stretch, every signal has settled, or this round is ``final``)."""
    x = result.calls_axis()
    trends = {
        name: assess(
            result.series(name), x, alpha=plan.alpha, stretches=plan.stretches, min_rise=MIN_RISE[name]
        )
        for name in result.names
    }
    result.trends = trends
    deciding = [name for name in DECIDING if name in trends]
    growing = [name for name in deciding if trends[name].growing]
    if growing:
        name = growing[0]
        slowing = _slowing(result.series(name), x)
        if slowing is None and result.calls >= plan.min_calls:
            result.finding, result.signal = "growing", name
            return True
        if slowing is None and not final:
            return False
        if slowing is None:
            # The budget ran out below min_calls: half of it still tells a line from a
            # cache filling up; fewer calls do not (a slow operation: say so, not "leak").
            # Only when time ran out: a call cap, the round cap or the memory cap (a leak too
            # big to need more calls) ended rounds that were sized on purpose.
            if not out_of_time or (result.calls >= plan.min_calls // 2 and _steady(result.series(name), x)):
                result.finding, result.signal = "growing", name
            else:
                result.finding, result.signal = "few_calls", name
            return True
        # Ever slower growth (a cache warming up, interpreter state filling): not yet a
        # leak. Keep measuring; at the end, the late half alone must grow on its own.
        if not final:
            return False
        half = result.rounds // 2
        late = assess(
            result.series(name)[half:],
            x[half:],
            alpha=plan.alpha,
            stretches=plan.stretches,
            min_rise=MIN_RISE[name],
        )
        # the late half alone must also be long enough not to be a cache still filling
        late_calls = result.calls - int(x[half])
        enough = not out_of_time or late_calls >= plan.min_calls // 2
        if late.growing and enough and _slowing(result.series(name)[half:], x[half:]) is None:
            result.finding, result.signal = "growing", name
            result.trends[name] = late
            return True
        result.finding, result.signal, result.slowing = "decelerating", name, slowing
        return True
    unsettled = [name for name in deciding if trends[name].shape not in SETTLED_SHAPES]
    if unsettled and not final:
        return False
    significant = [name for name in unsettled if trends[name].significant]
    if significant:
        result.finding, result.signal = "irregular", significant[0]
    else:
        result.finding, result.signal = "settled", ""
    return True
