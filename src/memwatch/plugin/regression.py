"""``memory_regression``: a test's memory against its baseline in the history store.

Each marked test's body figures (peak, growth, and the Python and native peaks when
measured) are compared with the baselines of that test in this environment
(:func:`memwatch.store.env.environment_key`), by :func:`memwatch.regression.check.check_metric`:
the same statistics, thresholds and failure policy as ``memwatch validate`` and
``memwatch history check`` (a critical regression or a failed gate fails the test; a
minor or major one is reported). Gates come from ``[tool.memwatch] regression.fail_on``
and the marker's ``fail_on``.

After the run, the controller moves baselines (:func:`settle_baselines`): a test
with none yet gets this run's figures, a confirmed improvement moves its baseline
(``auto_update_baselines``), and ``--memwatch-update-baselines`` accepts every
passed test's figures. Only tests that passed set a baseline.

The session-wide gate (``--memwatch-fail-on peak:10%``, :func:`session_gate`) compares
*every* recorded test of the run with its baseline, before the baselines move, and fails
the run (exit status 1) when a test fails a gate; with it, every passed test's baselines
are settled as above, not only the marked tests'.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from memwatch.errors import MemwatchError
from memwatch.model.pytest import CheckOutcome
from memwatch.plugin.specs import REGRESSION_METRICS
from memwatch.units import format_size, format_value

if TYPE_CHECKING:
    from memwatch.config.schema import RegressionConfig
    from memwatch.model.history import Baseline, ResultRow
    from memwatch.model.pytest import ItemRecord
    from memwatch.model.regression import MetricCheck
    from memwatch.plugin.recorder import BodyFigures
    from memwatch.store import Store

__all__ = [
    "METRICS",
    "BaselineCheck",
    "BaselineUpdate",
    "SessionGate",
    "figure_rows",
    "session_gate",
    "settle_baselines",
]

MARKER = "memory_regression"
#: the figures compared, as recorded in the store by the plugin (bytes)
METRICS = REGRESSION_METRICS


def figure_rows(nodeid: str, figures: BodyFigures | ItemRecord) -> list[ResultRow]:
    """One single-sample row per measured figure of a test body or its record (a figure that
    was not measured is left out)."""
    from memwatch.model.history import ResultRow

    return [
        ResultRow(nodeid, metric, "bytes", (float(value),))
        for metric in METRICS
        if (value := getattr(figures, metric)) is not None
    ]


class BaselineCheck:
    """Compares ``memory_regression`` tests with the baselines of this environment.

    The baselines are read once, on the first marked test (from an xdist worker too:
    workers only read the store, the controller alone writes it).
    """

    def __init__(self, url: str, config: RegressionConfig) -> None:
        self.url = url
        self.config = config
        self.env: dict[str, Any] = {}
        self.env_key = ""
        self._baselines: dict[tuple[str, str], Baseline] | None = None
        self._error = ""

    def _load(self) -> dict[tuple[str, str], Baseline]:
        if self._baselines is None:
            from memwatch.store import open_store
            from memwatch.store.env import environment_fingerprint, environment_key

            self.env = environment_fingerprint()
            self.env_key = environment_key(self.env)
            self._baselines = {}
            try:
                with open_store(self.url) as store:
                    self._baselines = {(b.test_id, b.metric): b for b in store.baselines(env=self.env_key)}
            except MemwatchError as exc:
                self._error = str(exc)
        return self._baselines

    def outcome(
        self, nodeid: str, figures: BodyFigures, gates: Sequence[str], *, accept: bool = False
    ) -> CheckOutcome:
        """The verdict on one test's body figures; ``accept`` (``--memwatch-update-baselines``)
        reports a regression without failing the test, whose figures then become the baseline."""
        from memwatch.regression.check import check_metric, parse_gates
        from memwatch.store.codec import stored_test_id

        baselines = self._load()
        if self._error:
            return CheckOutcome(
                MARKER, False, message=f"@pytest.mark.{MARKER}: cannot read the baselines: {self._error}"
            )
        all_gates = parse_gates((*self.config.fail_on, *gates))
        key = stored_test_id(nodeid)
        checks = []
        for row in figure_rows(nodeid, figures):
            found = baselines.get((key, row.metric))
            checks.append(
                check_metric(
                    row,
                    [found] if found is not None else [],
                    env_key=self.env_key,
                    env=self.env,
                    config=self.config,
                    gates=all_gates,
                )
            )
        growth = format_size(self.config.leak_severity.critical, binary=False)
        policy = (
            f"a test fails on a critical regression (peaks up >= {self.config.severity.critical:g} %, "
            f"growth up >= {growth}) or a failed gate"
        )
        verdict = RegressionVerdict(tuple(checks), self.env_key, tuple(str(g) for g in all_gates), policy)
        outcome = verdict.outcome()
        if accept and not outcome.passed:
            return dataclasses.replace(
                outcome,
                passed=True,
                message="",
                detail=f"accepted (--memwatch-update-baselines): {outcome.detail}",
            )
        return outcome


@dataclass(frozen=True)
class RegressionVerdict:
    """The metric checks of one test, and the text a person reads about them."""

    checks: tuple[MetricCheck, ...]
    env_key: str
    gates: tuple[str, ...]
    policy: str

    @property
    def passed(self) -> bool:
        return not any(c.failed for c in self.checks)

    def _line(self, c: MetricCheck) -> str:
        now = format_size(c.current_value or 0)
        if c.status == "new":
            return f"{c.metric}: {now}, no baseline yet (this run's becomes it)"
        if c.baseline_value is None:
            return f"{c.metric}: {now}, {c.reason}"
        text = f"{c.metric}: {now} now, {format_size(c.baseline_value)} in the baseline" + (
            f" (run {c.baseline_run})" if c.baseline_run else ""
        )
        if c.status == "regressed":
            text += f": {c.reason}, {c.severity} regression"
        elif c.status == "improved":
            text += f": {c.reason}, an improvement"
        else:
            text += ": unchanged"
        if c.gates_failed:
            text += f"; gate {', '.join(c.gates_failed)} failed"
        return text

    def detail(self) -> str:
        return "; ".join(self._line(c) for c in self.checks)

    def failure_text(self) -> str:
        gates = f"; gates: {', '.join(self.gates)}" if self.gates else ""
        lines = [
            f"@pytest.mark.{MARKER}: the test body's memory regressed against its baseline "
            f"(environment {self.env_key}):"
        ]
        lines += [f"  {self._line(c)}" for c in self.checks]
        lines.append(f"({self.policy}{gates}; accept the change with --memwatch-update-baselines)")
        return "\n".join(lines)

    def outcome(self) -> CheckOutcome:
        peak = next((c for c in self.checks if c.metric == "peak"), None)
        return CheckOutcome(
            MARKER,
            self.passed,
            limit=int(peak.baseline_value) if peak is not None and peak.baseline_value is not None else None,
            measured=peak.current_value if peak is not None else None,
            message="" if self.passed else self.failure_text(),
            detail=self.detail(),
        )


@dataclass(frozen=True)
class BaselineUpdate:
    """What :func:`settle_baselines` changed in the store."""

    new: int = 0
    moved: int = 0
    accepted: int = 0
    env_key: str = ""

    def summary(self) -> str:
        counts = (
            (self.new, "set (no baseline before)"),
            (self.moved, "moved (a confirmed improvement)"),
            (self.accepted, "accepted (--memwatch-update-baselines)"),
        )
        parts = [f"{n} {what}" for n, what in counts if n]
        return f"baselines in {self.env_key}: " + ", ".join(parts) if parts else ""


@dataclass(frozen=True)
class SessionGate:
    """What the session-wide gate found: the gates, the checks that failed one, how many compared."""

    gates: tuple[str, ...]
    failures: tuple[MetricCheck, ...] = ()
    compared: int = 0
    new: int = 0

    @property
    def passed(self) -> bool:
        return not self.failures

    def lines(self) -> list[str]:
        """One line per failed test metric, then the verdict."""
        out = []
        for c in self.failures:
            now = format_value(c.current_value or 0.0, c.unit)
            then = format_value(c.baseline_value or 0.0, c.unit)
            pct = f" ({c.relative * 100:+.1f}%)" if c.relative is not None else ""
            out.append(
                f"gate {', '.join(c.gates_failed)} failed: {c.test_id} {c.metric} {now} now, "
                f"{then} in the baseline{pct}"
            )
        verdict = "FAILED" if self.failures else "passed"
        tests = len({c.test_id for c in self.failures})
        detail = f"{tests} test(s) failed a gate" if self.failures else "no test failed a gate"
        new = f", {self.new} without a baseline yet" if self.new else ""
        out.append(
            f"gates {', '.join(self.gates)} {verdict}: {self.compared} test figures compared{new}; {detail}"
        )
        return out


def session_gate(store: Store, run_id: int, gates: Sequence[str], config: RegressionConfig) -> SessionGate:
    """Compare every test of run ``run_id`` with this environment's baselines at ``gates`` (the
    figures the gates name).

    Only the gates decide (the configuration's ``fail_on`` is the marked tests'); each
    metric in its direction (:mod:`memwatch.regression.metrics`)."""
    from memwatch.regression.check import check_regressions, parse_gates

    info = store.run(run_id)
    parsed = parse_gates(gates)
    gated = {g.metric for g in parsed}
    rows = [r for r in store.results(run_id) if r.metric in gated]  # the figures the gates name
    tests = {r.test_id for r in rows}
    baselines = [b for b in store.baselines(env=info.env_key) if b.test_id in tests]
    report = check_regressions(
        rows,
        baselines,
        env_key=info.env_key,
        env=info.env,
        config=config.model_copy(update={"fail_on": ()}),
        gates=gates,
        run_id=run_id,
    )
    # name the gates as they were given ("growth:1MiB", not the parsed "growth:1.0 MiB")
    given = {str(g): text for g, text in zip(parsed, gates, strict=True)}
    failures = tuple(
        dataclasses.replace(c, gates_failed=tuple(given.get(g, g) for g in c.gates_failed))
        for c in report.checks
        if c.gates_failed
    )
    compared = sum(1 for c in report.checks if c.baseline_value is not None)
    new = sum(1 for c in report.checks if c.status == "new")
    return SessionGate(tuple(gates), failures, compared, new)


def settle_baselines(
    store: Store,
    run_id: int,
    records: Iterable[ItemRecord],
    config: RegressionConfig,
    *,
    accept: bool = False,
    everyone: bool = False,
) -> BaselineUpdate:
    """Set or move the baselines of the run's passed ``memory_regression`` tests (every passed
    test with ``everyone``: the session-wide gate) in one transaction."""
    from memwatch.model.history import Baseline
    from memwatch.regression.check import check_metric
    from memwatch.store.codec import stored_test_id

    marked = [r for r in records if (everyone or MARKER in r.markers) and r.outcome == "passed"]
    if not marked:
        return BaselineUpdate()
    info = store.run(run_id)
    existing = {(b.test_id, b.metric): b for b in store.baselines(env=info.env_key)}
    now = time.time()
    new = moved = accepted = 0
    updates: list[Baseline] = []
    for record in marked:
        for row in figure_rows(record.nodeid, record):
            found = existing.get((stored_test_id(record.nodeid), row.metric))
            if found is None:
                source, new = f"pytest run {run_id}: first baseline", new + 1
            elif accept:
                source, accepted = f"pytest run {run_id}: --memwatch-update-baselines", accepted + 1
            else:
                check = check_metric(row, [found], env_key=info.env_key, env=info.env, config=config)
                if not (check.status == "improved" and config.auto_update_baselines):
                    continue
                source, moved = f"pytest run {run_id}: improvement", moved + 1
            updates.append(
                Baseline(
                    row.test_id,
                    row.metric,
                    row.unit,
                    row.samples,
                    info.env_key,
                    info.env,
                    run_id,
                    source,
                    now,
                )
            )
    store.put_baselines(updates)
    return BaselineUpdate(new, moved, accepted, info.env_key)
