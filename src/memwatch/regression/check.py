"""Compare a run's samples with the baselines of the same test, metric and environment.

The rule (statistics in :mod:`memwatch.stats.compare`): a change counts only when
the relative tolerance, the absolute floor and — with repeated samples on both
sides — the Mann–Whitney test all agree.

- Direction: a metric regresses when it moves the way that is worse for it
  (:func:`memwatch.regression.metrics.direction_of`: up for memory, time and GC
  pauses; down for operations per second, rates, hit rates and reclaimed fractions).
  The other way is an improvement.
- Ordinary metrics (``peak``, ``rss``, ``ops_per_second``, ...): the tolerance is the
  metric's percent threshold (``regression.thresholds``, else the *minor* severity
  threshold, 15 % by default; :func:`memwatch.config.options.regression_thresholds`)
  or a lower percent gate on that metric; the floor is ``abs_floor`` bytes for byte
  metrics. Severity by the size of the relative change: minor / major / critical at
  15 / 30 / 50 %.
- Leak metrics (names starting with ``growth`` or ``leak``): memory that should stay
  near zero, so percentages mean little. A change counts from the minor *leak*
  threshold (5 MB by default); severity by the increase in bytes: 5 / 20 / 50 MB.
- Gate expressions (``peak:10%``, ``growth:1MiB``, ``ops_per_second:10%``, from
  ``fail_on`` or the caller) fail the run when that metric's change in its worse
  direction counts at the gate's threshold (a percent gate on memory also needs the
  change to pass ``abs_floor``: 8 KiB -> 28 KiB is noise, not +250 %).
- A baseline from another environment (:func:`memwatch.store.env.environment_key`)
  is never used silently: the check is ``skipped`` and says which differs. Other
  fingerprint differences (CPU, memory limit, packages) are reported as warnings.
- A confirmed improvement is marked ``update_baseline`` when the configuration's
  ``auto_update_baselines`` is on; the store applies it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from memwatch.config.options import regression_thresholds
from memwatch.config.schema import RegressionConfig
from memwatch.model.history import Baseline, ResultRow
from memwatch.model.regression import MetricCheck, RegressionReport, Severity
from memwatch.regression.metrics import direction_of
from memwatch.stats.compare import decide_change
from memwatch.units import Gate, format_value, parse_gate

__all__ = [
    "check_metric",
    "check_regressions",
    "environment_differences",
    "is_leak_metric",
    "parse_gates",
    "severity_of",
]

LEAK_PREFIXES = ("growth", "leak")
_ENV_FIELDS = (
    "implementation",
    "python",
    "python_build",
    "system",
    "machine",
    "cpu",
    "cpu_count",
    "memory_limit",
)


def is_leak_metric(metric: str) -> bool:
    """True for metrics judged in bytes of growth rather than percent (``growth*``, ``leak*``)."""
    return metric.lower().startswith(LEAK_PREFIXES)


def parse_gates(gates: Iterable[str | Gate]) -> tuple[Gate, ...]:
    """Gate objects from expressions such as ``"peak:10%"``; ConfigError names a bad one."""
    return tuple(g if isinstance(g, Gate) else parse_gate(g) for g in gates)


def severity_of(metric: str, delta: float, relative: float | None, config: RegressionConfig) -> Severity:
    """Severity of a change the worse way: by bytes for leak metrics, by percent otherwise."""
    limits: tuple[float, float, float]
    if is_leak_metric(metric):
        levels = config.leak_severity
        value, limits = delta, (float(levels.critical), float(levels.major), float(levels.minor))
    else:
        sev = config.severity
        value = (abs(relative) if relative is not None else float("inf")) * 100.0
        limits = (sev.critical, sev.major, sev.minor)
    names: tuple[Severity, ...] = ("critical", "major", "minor")
    for name, limit in zip(names, limits, strict=True):
        if value >= limit:
            return name
    return "minor"  # counted at a lower gate threshold: the lowest severity


def check_metric(
    current: ResultRow,
    candidates: Sequence[Baseline],
    *,
    env_key: str,
    env: Mapping[str, Any] | None = None,
    config: RegressionConfig | None = None,
    gates: Sequence[Gate] = (),
    seed: int = 0,
) -> MetricCheck:
    """Check one result against the baselines of its test and metric (any environment)."""
    cfg = config or RegressionConfig()
    base = next((b for b in candidates if b.env_key == env_key), None)
    leak = is_leak_metric(current.metric)
    better = direction_of(current.metric)
    percent = None if leak else regression_thresholds(config=cfg).percent_for(current.metric)
    common: dict[str, Any] = {
        "test_id": current.test_id,
        "metric": current.metric,
        "unit": current.unit,
        "current": current.samples,
        "current_value": current.value,
        "better": better,
        "threshold": percent,
    }
    if base is None:
        if candidates:
            other = candidates[0]
            diff = environment_differences(other.env, env) if env else []
            detail = f" ({'; '.join(diff)})" if diff else ""
            return MetricCheck(
                **common,
                status="skipped",
                baseline_env=other.env_key,
                baseline_run=other.run_id,
                reason=f"baseline skipped: it was recorded in {other.env_key}{detail}, "
                f"this run is {env_key}; set one for this environment",
            )
        return MetricCheck(**common, status="new", reason="no baseline yet")
    common.update(
        baseline=base.samples,
        baseline_value=base.value,
        baseline_env=base.env_key,
        baseline_run=base.run_id,
        baseline_source=base.source,
    )
    if base.unit != current.unit:
        return MetricCheck(
            **common,
            status="skipped",
            reason=f"baseline skipped: unit {base.unit!r} differs from {current.unit!r}",
        )
    warnings = tuple(
        f"environment differs from the baseline's: {d}"
        for d in (environment_differences(base.env, env) if env else [])
    )
    is_bytes = current.unit == "bytes"
    rel_tol = 0.0 if percent is None else percent / 100.0
    floor = float(
        max(cfg.abs_floor, cfg.leak_severity.minor) if leak else (cfg.abs_floor if is_bytes else 0.0)
    )
    mine = [g for g in gates if g.metric == current.metric]
    for g in mine:
        if g.kind == "percent" and percent is not None and g.threshold < rel_tol:
            rel_tol, percent = g.threshold, g.threshold * 100.0
        elif g.kind == "absolute":
            floor = min(floor, g.threshold)
    decision = decide_change(
        base.samples,
        current.samples,
        rel_tol=rel_tol,
        abs_floor=floor,
        alpha=cfg.alpha,
        seed=seed,
        unit=current.unit,
    )
    worse = "increase" if better == "lower" else "decrease"
    failed_gates = tuple(str(g) for g in mine if _gate_fails(g, base, current, cfg, seed, worse))
    common.update(
        threshold=percent,
        delta=decision.absolute,
        relative=decision.relative,
        p_value=decision.p_value,
        ci_low=decision.ci[0] if decision.ci else None,
        ci_high=decision.ci[1] if decision.ci else None,
        significance=decision.significance,
        warnings=warnings,
        gates_failed=failed_gates,
    )
    if decision.counts and decision.direction == worse:
        severity = severity_of(current.metric, decision.absolute, decision.relative, cfg)
        return MetricCheck(
            **common,
            status="regressed",
            severity=severity,
            reason=_describe(current, decision.absolute, decision.relative),
        )
    if decision.counts and decision.direction != "none":
        return MetricCheck(
            **common,
            status="improved",
            update_baseline=cfg.auto_update_baselines,
            reason=_describe(current, decision.absolute, decision.relative),
        )
    return MetricCheck(**common, status="unchanged", reason="; ".join(decision.reasons) or "no change")


def _gate_fails(
    gate: Gate, base: Baseline, current: ResultRow, cfg: RegressionConfig, seed: int, worse: str
) -> bool:
    if gate.kind == "percent":  # memory changes below the noise floor do not count (abs_floor)
        floor = float(cfg.abs_floor) if current.unit == "bytes" else 0.0
        d = decide_change(
            base.samples, current.samples, rel_tol=gate.threshold, abs_floor=floor, alpha=cfg.alpha, seed=seed
        )
    else:
        d = decide_change(
            base.samples, current.samples, rel_tol=0.0, abs_floor=gate.threshold, alpha=cfg.alpha, seed=seed
        )
    return d.counts and d.direction == worse


def _describe(row: ResultRow, delta: float, relative: float | None) -> str:
    word = "up" if delta > 0 else "down"
    amount = format_value(delta, row.unit, signed=True)
    pct = f" ({relative * 100:+.1f}%)" if relative is not None else ""
    return f"{row.metric} went {word} {amount}{pct}"


def environment_differences(a: Mapping[str, Any], b: Mapping[str, Any] | None) -> list[str]:
    """Human-readable differences between two environment fingerprints ("python 3.12.1 vs 3.11.7")."""
    if not b:
        return []
    out = [
        f"{name} {a[name]} vs {b[name]}"
        for name in _ENV_FIELDS
        if name in a and name in b and a[name] != b[name]
    ]
    pa, pb = a.get("packages") or {}, b.get("packages") or {}
    if isinstance(pa, Mapping) and isinstance(pb, Mapping):
        out.extend(f"{p} {pa[p]} vs {pb[p]}" for p in sorted(set(pa) & set(pb)) if pa[p] != pb[p])
    return out


def check_regressions(
    current: Iterable[ResultRow],
    baselines: Iterable[Baseline],
    *,
    env_key: str,
    env: Mapping[str, Any] | None = None,
    config: RegressionConfig | None = None,
    gates: Iterable[str | Gate] = (),
    run_id: int | None = None,
    seed: int = 0,
) -> RegressionReport:
    """Check every result of a run; ``baselines`` may hold any environments' baselines.

    ``env_key``/``env`` describe the run's environment; ``gates`` add to the
    configuration's ``fail_on``.
    """
    cfg = config or RegressionConfig()
    all_gates = parse_gates((*cfg.fail_on, *gates))
    by_key: dict[tuple[str, str], list[Baseline]] = {}
    for b in baselines:
        by_key.setdefault((b.test_id, b.metric), []).append(b)
    rows = sorted(current, key=lambda r: (r.test_id, r.metric))
    checks = tuple(
        check_metric(
            row,
            by_key.get((row.test_id, row.metric), []),
            env_key=env_key,
            env=env,
            config=cfg,
            gates=all_gates,
            seed=seed,
        )
        for row in rows
    )
    measured = {row.metric for row in rows}
    sev, leak = cfg.severity, cfg.leak_severity
    return RegressionReport(
        env_key=env_key,
        checks=checks,
        run_id=run_id,
        gates=tuple(str(g) for g in all_gates),
        alpha=cfg.alpha,
        thresholds={"minor": sev.minor, "major": sev.major, "critical": sev.critical},
        leak_thresholds={
            "minor": float(leak.minor),
            "major": float(leak.major),
            "critical": float(leak.critical),
        },
        unmatched_gates=tuple(str(g) for g in all_gates if g.metric not in measured),
    )
