"""Parent side of the seed APIs: the pressure levels of ``MemoryStressTester`` and the toggle harness.

Both run their child task (:mod:`memwatch.stress.harness`) under a cap and score
it with :func:`memwatch.stress.analysis.stability_score`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from memwatch.errors import UsageError
from memwatch.model.stress import PressureCycle, PressureTestResult, ScenarioResult
from memwatch.stress.analysis import growth_trend, judge_interval, stability_score
from memwatch.stress.cap import CapMethod
from memwatch.stress.child import run_child
from memwatch.stress.verdicts import check, rate_text, samples_of
from memwatch.units import format_size

__all__ = ["HARNESS_DEFAULTS", "run_harness", "run_pressure"]

MiB = 2**20


def run_pressure(
    levels: Sequence[int], *, limit: int, cycles: int = 3, timeout: float = 120.0, cap_method: str = "auto"
) -> PressureTestResult:
    """Allocate each level (bytes) ``cycles`` times in a child capped at ``limit``.

    The breaking point is the first level whose allocation raised MemoryError, or the
    level in progress when the child died (a cgroup cap kills rather than refuses).
    """
    run = run_child(
        "pressure",
        limit=limit,
        params={"levels": list(levels), "cycles": cycles},
        cap_method=_method(cap_method),
        timeout=timeout,
    )
    done = tuple(
        PressureCycle(
            int(e["level"]), int(e["cycle"]), float(e["before"]), float(e["peak"]), float(e["after"])
        )
        for e in run.of("cycle")
    )
    breaking = next((int(e["level"]) for e in run.of("breaking")), None)
    if breaking is None and not run.outcome.completed:
        started = run.of("level")
        breaking = int(started[-1]["level"]) if started else None
    score = stability_score([(float(c.level), c.before, c.after) for c in done])
    return PressureTestResult(
        breaking_point_reached=breaking is not None,
        breaking_point=breaking,
        stability_score=score,
        cycles=done,
        limit=limit,
        cap_method=run.outcome.cap_method,
        child=run.outcome,
    )


def _method(name: str) -> CapMethod:
    if name == "rlimit":
        return "rlimit"
    if name == "cgroup":
        return "cgroup"
    return "auto"


#: document 003's harness defaults: 1 hour, 500 MB CPU and 1000 MB GPU pressure, a toggle every 30 s
HARNESS_DEFAULTS: dict[str, float] = {"duration": 3600.0, "cpu": 500e6, "gpu": 1000e6, "toggle": 30.0}
#: document 003's leak criteria: fail on sustained growth over 1 MB/s or a total growth over 100 MB
HARNESS_RATE_TARGET = 1e6
HARNESS_TOTAL_TARGET = 100e6
#: a total growth below this is the allocator's noise, whatever rate a short run computes from it
HARNESS_NOISE = 16 * 2**20


def run_harness(
    *,
    duration: float,
    cpu: int,
    gpu: int,
    toggle: float,
    limit: int | None = None,
    cap_method: str = "auto",
    fake_gpu_total: int | None = None,
    grace: float = 2.0,
    target: str = "",
    args: tuple[int, ...] = (),
    rate_target: float = HARNESS_RATE_TARGET,
    total_target: float = HARNESS_TOTAL_TARGET,
) -> ScenarioResult:
    """The seed harness: toggle ``cpu`` bytes (and ``gpu`` bytes on the device) every ``toggle`` s,
    calling ``target`` (``module:callable``, optional) once in each on-phase.

    ``limit`` defaults to the CPU pressure plus 256 MiB of headroom. Judged: the CPU
    pressure fits (no MemoryError), each off-phase gives the memory back (stability score
    > 0.95), and no leak across the off-phases: the RSS growth rate (Theil–Sen over the
    baseline and every off-phase reading, 95 % interval) below ``rate_target`` (a total
    growth under :data:`HARNESS_NOISE` passes it: a short run's step of a few MiB is the
    allocator) and the total growth (last off-phase over the baseline) below ``total_target``. GPU out-of-memory
    errors are caught, counted and reported.
    """
    cap = limit if limit is not None else cpu + 256 * MiB
    params: dict[str, object] = {"duration": duration, "cpu": cpu, "gpu": gpu, "toggle": toggle}
    if fake_gpu_total is not None:
        params["fake_gpu_total"] = fake_gpu_total
    run = run_child(
        "harness",
        limit=cap,
        target=target,
        args=args,
        params=params,
        cap_method=_method(cap_method),
        timeout=duration + toggle + 120.0,
        grace=grace,
    )
    error = run.error
    if error is not None and error.get("kind") == "bad-target":
        raise UsageError(str(error.get("message")))
    samples = samples_of(run)
    data = run.result or {}
    ons = [s for s in samples if s.label.startswith("on ")]
    offs = [s for s in samples if s.label.startswith("off ")]
    base = next((s for s in samples if s.label == "baseline"), None)
    befores = ([base.rss] if base else []) + [s.rss for s in offs]
    pairs = zip(befores, offs, strict=False)
    score = stability_score([(float(cpu), b, a.rss) for b, a in pairs]) if cpu else 1.0
    resting = ([base] if base else []) + offs
    trend = growth_trend([s.t for s in resting], [s.rss for s in resting])
    total = resting[-1].rss - resting[0].rss if len(resting) > 1 else math.nan
    metrics = {
        "cycles": float(data.get("cycles", len(ons))),
        "cpu_errors": float(data.get("cpu_errors", 0)),
        "gpu_ooms": float(data.get("gpu_ooms", 0)),
        "gpu_allocations": float(data.get("gpu_allocations", 0)),
        "calls": float(data.get("calls", 0)),
        "stability_score": score,
        "peak_rss": run.outcome.peak_rss,
        "growth_rate": trend.slope,
        "growth_rate_low": trend.low,
        "growth_rate_high": trend.high,
        "total_growth": total,
    }
    checks = (
        []
        if run.outcome.completed
        else [check("child completed", "fail", 0, 1, "==", run.outcome.error or run.outcome.exit, "count")]
    )
    checks.append(
        check(
            "cpu pressure fits",
            "pass" if not metrics["cpu_errors"] else "fail",
            metrics["cpu_errors"],
            0,
            "==",
            f"cap {format_size(cap)}",
            "count",
        )
    )
    checks.append(
        check(
            "memory given back",
            "pass" if score > 0.95 else "fail",
            score,
            0.95,
            ">",
            "stability score over the on/off cycles",
            "ratio",
        )
    )
    rate_status = judge_interval(trend.low, trend.high, rate_target)
    if rate_status in ("fail", "inconclusive") and abs(total) < HARNESS_NOISE:
        # a short run's step of a few MiB is the allocator, not a sustained rate: judge the total
        checks.append(
            check(
                "growth rate",
                "pass",
                abs(total),
                HARNESS_NOISE,
                "<",
                f"the total growth is under the allocator's noise floor; the rate of "
                f"{rate_text(trend.slope)} over so short a run is not a sustained one",
                "bytes",
            )
        )
    else:
        checks.append(
            check(
                "growth rate",
                rate_status,
                trend.slope,
                rate_target,
                "<",
                f"RSS across the off-phases; 95% interval {rate_text(trend.low)} .. {rate_text(trend.high)}",
                "bytes/s",
            )
        )
    checks.append(
        check(
            "total growth",
            "not-judged" if math.isnan(total) else "pass" if total < total_target else "fail",
            total,
            total_target,
            "<",
            "last off-phase over the baseline",
            "bytes",
        )
    )
    gpu_text = str(data.get("gpu", "not asked for" if not gpu else "unknown"))
    if gpu and data.get("gpu_available"):
        checks.append(
            check(
                "gpu out-of-memory handled",
                "pass",
                metrics["gpu_ooms"],
                math.inf,
                "<",
                f"{gpu_text}: {metrics['gpu_ooms']:.0f} OOM caught, "
                f"{metrics['gpu_allocations']:.0f} allocations",
                "count",
            )
        )
    else:
        checks.append(check("gpu pressure", "not-judged", math.nan, gpu, "", gpu_text, "bytes"))
    passed = all(c.status != "fail" for c in checks)
    leaked = any(c.name in ("growth rate", "total growth") and c.status == "fail" for c in checks)
    notes = (
        (
            f"memory leak detected: growth rate {rate_text(trend.slope)}, total growth "
            f"{format_size(total, signed=total < 0, binary=False)} over {metrics['cycles']:.0f} cycles",
        )
        if leaked
        else ()
    )
    return ScenarioResult(
        "harness",
        passed,
        tuple(checks),
        metrics,
        samples=samples,
        children=(run.outcome,),
        notes=notes,
        params={
            "duration": str(duration),
            "cpu": str(cpu),
            "gpu": str(gpu),
            "toggle": str(toggle),
            "gpu_device": gpu_text,
            **({"target": target} if target else {}),
        },
    )
