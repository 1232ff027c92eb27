"""One series' verdicts: its status against the baseline, and the change points that count.

No new statistics here: candidates come from :func:`memwatch.dashboard.steps.find_steps`
(``detect_steps``), and both the latest run and every candidate step are judged by
:func:`memwatch.regression.check.check_metric`, the rule of ``memwatch validate`` and
the regression gates (tolerance, absolute floor, Mann–Whitney significance, the
bootstrap interval of the ratio, severities and ``fail_on`` gates).

- **Status** of a series: ``missing`` when the newest run of the kind that recorded it
  has no value for it; else the check of its latest run against the stored baseline
  of that run's environment: ``regressed``, ``improved`` or ``ok``. Without a stored
  baseline the reference is the first runs of the series in that environment
  (labelled so); a series with a single run is ``new``.
- **Change points**: steps are looked for in each environment separately (another
  Python or platform is a switch, not a regression). A step counts when the samples
  of up to :data:`WINDOW` runs after it, against those of up to :data:`WINDOW` runs
  before it (within the segments the detector found), pass ``check_metric``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from memwatch.config.schema import RegressionConfig
from memwatch.dashboard.scope import Scope
from memwatch.dashboard.steps import find_steps
from memwatch.model.history import Baseline, ResultRow, RunInfo
from memwatch.model.regression import MetricCheck
from memwatch.regression.check import check_metric, parse_gates
from memwatch.units import Gate

__all__ = ["WINDOW", "Analysed", "Finding", "analyse", "status_of"]

WINDOW = 10  # runs either side of a step whose samples are compared
REFERENCE_RUNS = 3  # first runs of a series used as its reference when no baseline is stored

SamplesReader = Callable[[str, str, Sequence[int]], dict[int, tuple[float, ...]]]


@dataclass(frozen=True)
class Finding:
    """A change point that counts: the first run after the step, and the check that confirmed it."""

    test_id: str
    metric: str
    unit: str
    env_key: str
    run: RunInfo
    point: int  # index in the series (as shown on the test's chart)
    runs_before: int
    runs_after: int
    check: MetricCheck

    @property
    def direction(self) -> str:
        return "up" if self.check.status == "regressed" else "down"


@dataclass
class Analysed:
    """A series cut to the scope, with its verdicts. Arrays are dropped once its page is written."""

    test_id: str
    metric: str
    unit: str
    run_ids: np.ndarray
    values: np.ndarray
    positions: np.ndarray  # positions of the runs in the scope
    status: str
    reference: str  # what the latest value was compared with
    check: MetricCheck | None
    env_key: str = ""  # the latest run's environment
    findings: list[Finding] = field(default_factory=list)
    baseline: Baseline | None = None

    @property
    def latest(self) -> float:
        return float(self.values[-1])


def status_of(check: MetricCheck | None) -> str:
    if check is None or check.status == "new":
        return "new"
    return {"regressed": "regressed", "improved": "improved"}.get(check.status, "ok")


def _pooled(samples: dict[int, tuple[float, ...]], runs: Sequence[int]) -> tuple[float, ...]:
    return tuple(v for r in runs for v in samples.get(int(r), ()))


def analyse(
    test_id: str,
    metric: str,
    unit: str,
    run_ids: np.ndarray,
    values: np.ndarray,
    scope: Scope,
    baselines: Sequence[Baseline],
    read_samples: SamplesReader,
    *,
    config: RegressionConfig,
    gates: Sequence[Gate] | None = None,
    min_change: float = 0.05,
    find_changes: bool = True,
) -> Analysed | None:
    """Cut a series to the scope and judge it; None when none of its runs is in scope."""
    mask, positions = scope.positions(run_ids)
    if not positions.size:
        return None
    run_ids, values = run_ids[mask], values[mask]
    all_gates = tuple(gates) if gates is not None else parse_gates(config.fail_on)
    envs = scope.env_codes[positions]
    latest_run = scope.runs[int(positions[-1])]
    same_env = np.nonzero(envs == envs[-1])[0]
    base = next((b for b in baselines if b.env_key == latest_run.env_key), None)
    wanted = [int(run_ids[-1])]
    if base is None:
        wanted += [int(r) for r in run_ids[same_env[:REFERENCE_RUNS]]]
    samples = read_samples(test_id, metric, wanted)
    current = ResultRow(test_id, metric, unit, samples.get(wanted[0]) or (float(values[-1]),))
    check: MetricCheck | None
    if base is not None:
        reference = f"baseline (run {base.run_id})" if base.run_id else "baseline"
        check = check_metric(current, [base], env_key=base.env_key, config=config, gates=all_gates)
    elif same_env.size > 1:
        first = [int(r) for r in run_ids[same_env[:REFERENCE_RUNS]] if int(r) != wanted[0]]
        ref = Baseline(test_id, metric, unit, _pooled(samples, first), latest_run.env_key)
        reference = f"first run{'s' if len(first) > 1 else ''} ({', '.join(map(str, first))})"
        check = check_metric(current, [ref], env_key=ref.env_key, config=config, gates=all_gates)
    else:
        reference, check = "none yet", None
    status = status_of(check)
    kind = int(scope.kind_codes[positions[-1]])
    if scope.newest_of_kind[kind] > int(positions[-1]):
        status = "missing"
    out = Analysed(
        test_id,
        metric,
        unit,
        run_ids,
        values,
        positions,
        status,
        reference,
        check,
        latest_run.env_key,
        baseline=base,
    )
    for code in np.unique(envs) if find_changes else ():
        where = np.nonzero(envs == code)[0]
        out.findings.extend(
            _findings(
                out, where, scope.env_names[int(code)], scope, read_samples, config, all_gates, min_change
            )
        )
    return out


def _findings(
    series: Analysed,
    where: np.ndarray,
    env_key: str,
    scope: Scope,
    read_samples: SamplesReader,
    config: RegressionConfig,
    gates: Sequence[Gate],
    min_change: float,
) -> list[Finding]:
    sub = series.values[where]
    steps = find_steps(sub, min_change=min_change)
    found: list[Finding] = []
    cuts = [0, *(s.index for s in steps), int(sub.size)]
    for k in range(len(steps)):
        lo, i, hi = cuts[k], cuts[k + 1], cuts[k + 2]
        before = [int(r) for r in series.run_ids[where[max(lo, i - WINDOW) : i]]]
        after = [int(r) for r in series.run_ids[where[i : min(hi, i + WINDOW)]]]
        samples = read_samples(series.test_id, series.metric, before + after)
        ref = Baseline(series.test_id, series.metric, series.unit, _pooled(samples, before), env_key)
        now = ResultRow(series.test_id, series.metric, series.unit, _pooled(samples, after))
        if not ref.samples or not now.samples:
            continue
        check = check_metric(now, [ref], env_key=env_key, config=config, gates=gates)
        if check.status not in ("regressed", "improved"):
            continue
        point = int(where[i])
        run = scope.runs[int(series.positions[point])]
        found.append(
            Finding(
                series.test_id,
                series.metric,
                series.unit,
                env_key,
                run,
                point,
                len(before),
                len(after),
                check,
            )
        )
    return found
