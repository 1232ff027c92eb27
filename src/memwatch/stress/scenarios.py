"""The stress scenarios: each runs the target in capped children and turns what they report into verdicts.

==============  ===============================================  ==========================================
scenario        what the child does                              judged
==============  ===============================================  ==========================================
ramp            ``func(load)``, one child per load: doubling     breaking point = smallest load that fails
                then bisection                                   (reported; found below the cap)
spike           ``func()`` once per repeat, result held, then    recovery > 95 % of the python and the
                dropped                                          native heap (RSS reported)
fragmentation   ``cycles`` calls (or the built-in churn of        heap and RSS (after malloc_trim) back
                ``size`` bytes), a reading after each            to baseline; what the allocator keeps and
                                                                 fragmentation (RSS - heap growth) reported
concurrent      threads and asyncio tasks call ``func`` while    every call completes, no error, no hang
                a ballast holds part of the room left
soak            ``func()`` in a loop for ``duration``            growth < 1 MB/s and < 100 MB/h (Theil–Sen
                                                                 95 % interval), within ±10 % of median
==============  ===============================================  ==========================================

Every scenario with samples also records how far RSS and VMS rose over the child's first
reading (``peak_rss_growth``, ``peak_vms_growth``); with ``max_rss_growth`` /
``max_vms_growth`` set they are judged (document 004's pressure tests: RSS growth < 500 MB,
VMS growth < 800 MB).
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from memwatch.config.options import stress_options
from memwatch.errors import ConfigError, UsageError
from memwatch.model.stress import (
    LoadTrial,
    ScenarioName,
    ScenarioResult,
    StressCheck,
    StressReport,
    StressSample,
)
from memwatch.stress.analysis import (
    bisect_breaking_point,
    growth_trend,
    judge_interval,
    max_deviation,
    recovery_ratio,
)
from memwatch.stress.cap import CapMethod
from memwatch.stress.child import ChildRun, run_child
from memwatch.stress.verdicts import check, child_completed, rate_text, require_evidence, samples_of

__all__ = ["SCENARIOS", "StressOptions", "run_scenario", "run_stress"]

SCENARIOS: tuple[ScenarioName, ...] = ("ramp", "spike", "fragmentation", "concurrent", "soak")
MiB = 2**20
#: the ``stress:`` section's defaults (cap, timeout, soak length, cap method): the schema holds them
_DEFAULTS = stress_options()


@dataclass(frozen=True)
class StressOptions:
    """Knobs of every scenario; sizes in bytes, times in seconds. ``load`` is passed to
    ``func`` by the scenarios other than ramp (as its only argument) when set. With
    ``factory`` (``module:callable``) each call in the child is one component lifecycle
    (:func:`memwatch.config.lifecycle.component_operation`): create, ``func(component)``, close."""

    limit: int = _DEFAULTS.limit
    cap_method: CapMethod = _DEFAULTS.cap_method  # type: ignore[assignment]
    timeout: float = _DEFAULTS.timeout
    grace: float = 2.0
    load: int | None = None
    start: int = 1
    max_load: int = 1_000_000
    resolution: int = 1
    relative: float = 0.01
    repeats: int = 1
    recovery_target: float = 0.95
    min_spike: float = 1 * MiB
    cycles: int = 100
    size: int = 50_000_000
    heap_tolerance: float = 2 * MiB
    rss_tolerance: float = 16 * MiB
    threads: int = 4
    tasks: int = 4
    iterations: int = 10
    ballast: float = 0.5
    duration: float = _DEFAULTS.duration
    interval: float | None = None
    warmup: float = 0.1
    rate_target: float = 1e6
    hourly_target: float = 100e6
    band: float = 0.10
    factory: str | None = None
    max_rss_growth: int | None = _DEFAULTS.max_rss_growth
    max_vms_growth: int | None = _DEFAULTS.max_vms_growth


def _child(
    task: str,
    target: str,
    opts: StressOptions,
    *,
    args: tuple[int, ...] | None = None,
    params: Mapping[str, object] | None = None,
    timeout: float | None = None,
) -> ChildRun:
    if args is None:
        args = () if opts.load is None else (opts.load,)
    run = run_child(
        task,
        limit=opts.limit,
        target=target,
        args=args,
        params={**(params or {}), **({"factory": opts.factory} if opts.factory else {})},
        cap_method=opts.cap_method,
        timeout=timeout or opts.timeout,
        grace=opts.grace,
    )
    error = run.error
    if error is not None and error.get("kind") == "bad-target":
        raise UsageError(str(error.get("message")))
    return run


def _result(
    name: ScenarioName,
    checks: list[StressCheck],
    metrics: dict[str, float],
    runs: Sequence[ChildRun],
    *,
    params: Mapping[str, object],
    samples: tuple[StressSample, ...] = (),
    trials: tuple[LoadTrial, ...] = (),
) -> ScenarioResult:
    passed = all(c.status != "fail" for c in checks)
    return ScenarioResult(
        name,
        passed,
        tuple(checks),
        metrics,
        samples=samples,
        trials=trials,
        children=tuple(r.outcome for r in runs),
        params={k: str(v) for k, v in params.items()},
    )


def ramp(target: str, opts: StressOptions) -> ScenarioResult:
    """Doubling from ``start``, then bisection, one capped child per load.

    A load fails when its child ends without a result: MemoryError, killed (a cgroup
    cap kills), crashed. If the first failing load failed because the target raised
    some other exception, that is no breaking point: the check fails and says so.
    """
    trials: list[LoadTrial] = []
    runs: list[ChildRun] = []
    raised: dict[int, str] = {}  # load -> exception that is not a memory failure

    def probe(load: int) -> bool:
        run = _child("call", target, opts, args=(load,))
        runs.append(run)
        error = run.error
        if error is not None and error.get("kind") == "raised":
            raised[load] = run.outcome.error
        trials.append(
            LoadTrial(
                load, run.outcome.completed, run.outcome.peak_rss, run.outcome.wall_time, run.outcome.error
            )
        )
        return run.outcome.completed

    search = bisect_breaking_point(
        probe, start=opts.start, max_load=opts.max_load, resolution=opts.resolution, relative=opts.relative
    )
    ok_peaks = [t.peak_rss for t in trials if t.ok]
    metrics = {
        "trials": float(len(trials)),
        "cap": float(opts.limit),
        "breaking_point": float(search.breaking_point) if search.breaking_point else math.nan,
        "last_ok": float(search.last_ok) if search.last_ok else math.nan,
        "peak_rss_last_ok": max(ok_peaks) if ok_peaks else math.nan,
    }
    if search.breaking_point is None:
        checks = [
            check(
                "breaking point",
                "inconclusive",
                opts.max_load,
                opts.max_load,
                "<",
                "every load up to max_load fit under the cap",
                "load",
            )
        ]
    elif search.breaking_point in raised:
        checks = [
            check(
                "breaking point",
                "fail",
                search.breaking_point,
                opts.max_load,
                "<=",
                f"the target raised {raised[search.breaking_point]} at load "
                f"{search.breaking_point}: not a memory failure",
                "load",
            )
        ]
    else:
        failing = next(t for t in trials if t.load == search.breaking_point)
        checks = [
            check(
                "breaking point",
                "pass",
                search.breaking_point,
                opts.max_load,
                "<=",
                f"fails at load {search.breaking_point} ({failing.error or 'no error'}); "
                f"fits at {search.last_ok}",
                "load",
            )
        ]
    result = _result(
        "ramp",
        checks,
        metrics,
        runs,
        trials=tuple(trials),
        params={"start": opts.start, "max_load": opts.max_load, "relative": opts.relative},
    )
    return require_evidence(
        result,
        ("breaking point",),
        "every load up to max_load fit under the cap: no breaking point found (raise --max-load)",
    )


def spike(target: str, opts: StressOptions) -> ScenarioResult:
    """Recovery of the python heap (tracemalloc) and the native heap (mallinfo2) after each spike."""
    run = _child("spike", target, opts, params={"repeats": opts.repeats})
    samples = samples_of(run)
    checks = child_completed(run)
    metrics: dict[str, float] = {}
    base = next((s for s in samples if s.label == "baseline"), None)
    peaks = [s for s in samples if s.label.endswith("peak")]
    afters = [s for s in samples if s.label.endswith("after")]
    labels = {"heap": "python heap recovery", "native": "native heap recovery", "rss": "rss recovery"}
    for signal, label in labels.items():
        if base is None or not peaks:
            break
        ratios = [
            recovery_ratio(
                getattr(base, signal), getattr(p, signal), getattr(a, signal), min_spike=opts.min_spike
            )
            for p, a in zip(peaks, afters, strict=False)
        ]
        known = [r for r in ratios if r is not None]
        worst = min(known) if known else math.nan
        metrics[f"{signal}_recovery"] = worst
        metrics[f"{signal}_spike"] = max(getattr(p, signal) for p in peaks) - getattr(base, signal)
        if signal == "rss":  # reported, not judged
            checks.append(
                check(
                    label,
                    "not-judged",
                    worst,
                    opts.recovery_target,
                    ">",
                    "reported only: RSS also moves with the allocator's caching",
                    "ratio",
                )
            )
        else:
            status = "not-judged" if not known else "pass" if worst > opts.recovery_target else "fail"
            detail = "" if known else "spike below min_spike or signal unavailable"
            checks.append(check(label, status, worst, opts.recovery_target, ">", detail, "ratio"))
    return _result(
        "spike",
        checks,
        metrics,
        [run],
        samples=samples,
        params={"repeats": opts.repeats, "min_spike": opts.min_spike},
    )


def fragmentation(target: str, opts: StressOptions) -> ScenarioResult:
    """Cycles of allocation and release; fragmentation = RSS growth minus in-use heap growth.

    The in-use heap is tracemalloc's traced bytes: it assumes the workload allocates
    through Python's allocators (numpy included). Memory a C extension mallocs on its
    own shows up as fragmentation; glibc's free bytes (``native_free``) are reported beside it.
    """
    builtin = target == ""
    run = _child("fragmentation", target, opts, params={"cycles": opts.cycles, "size": opts.size})
    samples = samples_of(run)
    checks = child_completed(run)
    base = next((s for s in samples if s.label == "baseline"), None)
    cycles = [s for s in samples if s.label.startswith("cycle")]
    trimmed = next((s for s in samples if s.label == "after malloc_trim"), None)
    metrics: dict[str, float] = {"cycles": float(len(cycles))}
    if base is not None and cycles:
        frag = [(s.rss - base.rss) - (s.heap - base.heap) for s in cycles]
        end = cycles[-1]
        metrics.update(
            fragmentation=frag[-1],
            fragmentation_max=max(frag),
            rss_growth=end.rss - base.rss,
            heap_growth=end.heap - base.heap,
            native_free=end.native_free,
        )
        if trimmed is not None:
            metrics["rss_growth_after_trim"] = trimmed.rss - base.rss
        rss_tol = max(opts.rss_tolerance, 0.1 * opts.size) if builtin else opts.rss_tolerance
        heap_growth, rss_growth = metrics["heap_growth"], metrics["rss_growth"]
        checks.append(
            check(
                "heap back to baseline",
                "not-judged"
                if math.isnan(heap_growth)
                else "pass"
                if heap_growth < opts.heap_tolerance
                else "fail",
                heap_growth,
                opts.heap_tolerance,
                "<",
                unit="bytes",
            )
        )
        # What the workload keeps is judged; what the allocator keeps (free pages it has not
        # returned, which malloc_trim(0) gives back) is reported beside it, never failed.
        kept = metrics.get("rss_growth_after_trim", rss_growth)
        if trimmed is not None:
            kept_note = (
                f"after malloc_trim(0); before it the allocator kept {rss_growth / MiB:.1f} MiB "
                f"(fragmentation {frag[-1] / MiB:.1f} MiB)"
            )
        else:
            kept_note = f"no malloc_trim here: includes what the allocator keeps (fragmentation {frag[-1] / MiB:.1f} MiB)"
        checks.append(
            check(
                "rss back to baseline",
                "pass" if kept < rss_tol else "fail",
                kept,
                rss_tol,
                "<",
                kept_note,
                "bytes",
            )
        )
        if trimmed is not None:
            checks.append(
                check(
                    "kept by the allocator",
                    "not-judged",
                    rss_growth - kept,
                    rss_tol,
                    "",
                    f"{(rss_growth - kept) / MiB:.1f} MiB of free memory the allocator held until "
                    "malloc_trim(0) gave it back; reported, not judged",
                    "bytes",
                )
            )
    return _result(
        "fragmentation",
        checks,
        metrics,
        [run],
        samples=samples,
        params={"cycles": opts.cycles, "size": opts.size if builtin else "target"},
    )


def concurrent(target: str, opts: StressOptions) -> ScenarioResult:
    """Threads and asyncio tasks at once while a ballast holds ``ballast`` x the room left under the cap."""
    params: dict[str, object] = {
        "threads": opts.threads,
        "tasks": opts.tasks,
        "iterations": opts.iterations,
        "ballast": opts.ballast,
        "limit": opts.limit,
        "timeout": opts.timeout * 0.8,
    }
    run = _child("concurrent", target, opts, params=params)
    samples = samples_of(run)
    checks = child_completed(run)
    data = run.result or {}
    errors = data.get("errors", {}) if isinstance(data.get("errors"), dict) else {}
    metrics = {
        "calls": float(data.get("calls", math.nan)),
        "completed": float(data.get("completed", 0)),
        "errors": float(sum(errors.values())),
        "memory_errors": float(errors.get("MemoryError", 0)),
        "hung_threads": float(data.get("hung_threads", 0)),
        "wall": float(data.get("wall", math.nan)),
        "median_call": float(data.get("median_call") or math.nan),
    }
    if data:
        detail = ", ".join(f"{k} x{v}" for k, v in sorted(errors.items()))
        checks += [
            check(
                "calls completed",
                "pass" if metrics["completed"] == metrics["calls"] else "fail",
                metrics["completed"],
                metrics["calls"],
                "==",
                unit="count",
            ),
            check("errors", "pass" if not errors else "fail", metrics["errors"], 0, "==", detail, "count"),
            check(
                "hung threads",
                "pass" if not metrics["hung_threads"] else "fail",
                metrics["hung_threads"],
                0,
                "==",
                unit="count",
            ),
        ]
    return _result("concurrent", checks, metrics, [run], samples=samples, params=params)


def soak(target: str, opts: StressOptions) -> ScenarioResult:
    """Growth rate of RSS over a loop of calls, Theil–Sen with a 95 % interval, after a warm-up."""
    params: dict[str, object] = {"duration": opts.duration}
    if opts.interval is not None:
        params["interval"] = opts.interval
    run = _child("soak", target, opts, params=params, timeout=opts.duration + opts.timeout)
    samples = samples_of(run)
    checks = child_completed(run)
    t = np.array([s.t for s in samples])
    rss = np.array([s.rss for s in samples])
    steady = t >= (t[0] + opts.warmup * (t[-1] - t[0])) if len(t) else t.astype(bool)
    trend = growth_trend(t[steady], rss[steady])
    native = growth_trend(t[steady], np.array([s.native for s in samples])[steady])
    deviation = max_deviation(rss[steady])
    metrics = {
        "samples": float(int(steady.sum())),
        "slope": trend.slope,
        "slope_low": trend.low,
        "slope_high": trend.high,
        "per_hour": trend.slope * 3600,
        "deviation": deviation,
        "native_slope": native.slope,
        "calls": float((run.result or {}).get("calls", math.nan)),
    }
    checks += [
        check(
            "growth rate",
            judge_interval(trend.low, trend.high, opts.rate_target),
            trend.slope,
            opts.rate_target,
            "<",
            f"95% interval {rate_text(trend.low)} .. {rate_text(trend.high)}",
            "bytes/s",
        ),
        check(
            "growth per hour",
            judge_interval(trend.low * 3600, trend.high * 3600, opts.hourly_target),
            trend.slope * 3600,
            opts.hourly_target,
            "<",
            "projected from the rate",
            "bytes/h",
        ),
        check(
            "stable within band",
            "not-judged" if math.isnan(deviation) else "pass" if deviation <= opts.band else "fail",
            deviation,
            opts.band,
            "<=",
            "largest distance from the median after warm-up",
            "ratio",
        ),
    ]
    result = _result(
        "soak",
        checks,
        metrics,
        [run],
        samples=samples,
        params={"duration": opts.duration, "warmup": opts.warmup},
    )
    return require_evidence(
        result,
        ("growth rate", "growth per hour"),
        "the growth rate's 95 % interval straddles its target (or there were too "
        "few samples after the warm-up); run longer",
    )


_RUNNERS = {
    "ramp": ramp,
    "spike": spike,
    "fragmentation": fragmentation,
    "concurrent": concurrent,
    "soak": soak,
}


def growth_limits(result: ScenarioResult, opts: StressOptions) -> ScenarioResult:
    """``result`` with the RSS and VMS growth over the child's first reading recorded
    (``peak_rss_growth``, ``peak_vms_growth``, from the samples the child reported) and
    judged against ``max_rss_growth`` / ``max_vms_growth`` where set. A scenario without
    samples (ramp: one child per load) leaves a set limit not judged."""
    metrics = dict(result.metrics)
    checks = list(result.checks)
    base = next((s for s in result.samples if s.label == "baseline"), None)
    if base is None and result.samples:
        base = result.samples[0]
    signals = {"rss": opts.max_rss_growth, "vms": opts.max_vms_growth}
    for signal, limit in signals.items():
        growth = math.nan
        if base is not None:
            # the samples only: the kernel's ru_maxrss of a child counts the parent's peak
            # too (recorded at exec), so it would charge a big test runner to the child
            values = [getattr(s, signal) for s in result.samples]
            finite = [v for v in values if not math.isnan(v)]
            start = getattr(base, signal)
            if finite and not math.isnan(start):
                growth = max(finite) - start
        if not math.isnan(growth):
            metrics[f"peak_{signal}_growth"] = growth
        if limit is None:
            continue
        if math.isnan(growth):
            status, detail = (
                "not-judged",
                "no readings of the child to judge (a ramp runs one child per load)",
            )
        else:
            status = "pass" if growth < limit else "fail"
            detail = f"highest {signal.upper()} over the child's first reading"
        checks.append(check(f"{signal} growth", status, growth, limit, "<", detail, "bytes"))
    passed = result.passed and all(c.status != "fail" for c in checks)
    return dataclasses.replace(result, checks=tuple(checks), metrics=metrics, passed=passed)


def run_scenario(name: str, target: str, opts: StressOptions | None = None) -> ScenarioResult:
    """Run one scenario on ``module:callable`` (``""``: the built-in churn, fragmentation only)."""
    runner = _RUNNERS.get(name)
    if runner is None:
        raise ConfigError(f"unknown scenario {name!r}: use one of {', '.join(SCENARIOS)}")
    if not target and name != "fragmentation":
        raise UsageError(f"scenario {name!r} needs a target module:callable")
    opts = opts or StressOptions()
    for key in ("max_rss_growth", "max_vms_growth"):
        value = getattr(opts, key)
        if value is not None and value <= 0:
            raise ConfigError(f"invalid {key} {value!r}: expected a size above 0")
    return growth_limits(runner(target, opts), opts)


def run_stress(target: str, scenarios: Sequence[str], opts: StressOptions | None = None) -> StressReport:
    """Run each scenario in turn; a :class:`StressReport` with one result per scenario."""
    opts = opts or StressOptions()
    started, clock = time.time(), time.monotonic()
    results = tuple(run_scenario(name, target, opts) for name in scenarios)
    methods = {c.cap_method for r in results for c in r.children}
    return StressReport(
        target=target,
        limit=opts.limit,
        cap_method=",".join(sorted(methods)),
        scenarios=results,
        started_at=started,
        duration=time.monotonic() - clock,
        host=socket.gethostname(),
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.release()} ({os.cpu_count()} cpus)",
    )
