"""The validation suite's planning, policy and runner, with checks that are test doubles."""

from __future__ import annotations

from pathlib import Path

import pytest

from memwatch.config.schema import Config, validate_config
from memwatch.config.target import resolve_target
from memwatch.errors import ConfigError, UsageError
from memwatch.model.base import dump_document, load_document
from memwatch.model.suite import CheckOutcome, Severity, SuiteReport
from memwatch.suite import checks as registry
from memwatch.suite.policy import fail_threshold, status_for
from memwatch.suite.runner import run_suite
from memwatch.suite.spec import CheckSpec, ComponentSpec, suite_spec

KNOWN = {"leaks", "gc", "regression", "stress"}


def config(**data: object) -> Config:
    return validate_config(dict(data), source="/tmp/x/memwatch.yaml")


def test_plan_follows_levels_and_component_filters() -> None:
    cfg = config(
        components=[
            {"name": "a", "operation": "os.path:join"},
            {"name": "b", "operation": "os.path:split", "checks": ["leaks"]},
        ],
        checks={"gc": {"levels": ["comprehensive"]}},
    )
    spec = suite_spec(cfg, KNOWN)
    quick = [(c.name, k.name) for c, k in spec.plan("quick")]
    assert quick == [("a", "leaks"), ("a", "regression"), ("b", "leaks")]
    comp = [(c.name, k.name) for c, k in spec.plan("comprehensive")]
    assert ("a", "gc") in comp
    assert ("b", "gc") not in comp
    nightly = [(c.name, k.name) for c, k in spec.plan("nightly")]
    assert ("a", "stress") in nightly
    assert ("a", "gc") not in nightly  # the config narrowed gc to comprehensive
    with pytest.raises(ConfigError, match="unknown level 'weekly'"):
        spec.plan("weekly")


@pytest.mark.parametrize(
    ("components", "checks", "message"),
    [
        ([{"operation": "os.path:join"}], {}, r"components\[0\]\.name: required"),
        (
            [{"name": "a", "operation": "nocolon"}],
            {},
            r"components\[0\]\.operation: 'nocolon' is not an import path",
        ),
        (
            [{"name": "a", "operation": "os.path:join"}, {"name": "a", "operation": "os.path:split"}],
            {},
            "duplicate component name 'a'",
        ),
        (
            [{"name": "a", "operation": "os.path:join", "checks": ["leakz"]}],
            {},
            "unknown check 'leakz' \\(did you mean 'leaks'\\?\\)",
        ),
        ([{"name": "a", "operation": "os.path:join", "factory": 3}], {}, "factory"),
        ([], {"lekas": {}}, "checks.lekas: unknown check \\(did you mean 'leaks'\\?\\)"),
        ([], {"gc": {"levels": ["weekly"]}}, r"checks\.gc\.levels"),
        (["x"], {}, r"components\[0\]: Input should be a valid dictionary"),
        (
            [{"name": "a", "opration": "os.path:join"}],
            {},
            r"components\[0\]\.opration: unknown key \(did you mean 'operation'\?\)",
        ),
        (
            [{"name": "a", "operation": "os.path:join", "leaks": {"max_growt": "1 kB"}}],
            {},
            r"components\[0\]\.leaks\.max_growt: unknown key \(did you mean 'max_growth'\?\)",
        ),
        ([], {"leaks": {"fail_on": "trace2"}}, r"checks\.leaks\.fail_on: 'trace2' is not one of budget"),
        (
            [{"name": "a", "operation": "os.path:join", "gc": {"levels": ["quick"]}}],
            {},
            r"components\[0\]\.gc\.levels: a component's check block cannot set levels",
        ),
        (
            [{"name": "a", "operation": "os.path:join", "mycheck": {}}],
            {},
            r"components\[0\]\.mycheck: unknown key",
        ),
    ],
)
def test_bad_suite_config_names_the_key(
    components: list[object], checks: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        suite_spec(config(components=components, checks=checks), KNOWN)


@pytest.mark.parametrize(
    ("severity", "threshold", "over_budget", "status"),
    [
        ("none", "critical", False, "pass"),
        ("trace", "critical", False, "warn"),
        ("major", "critical", False, "warn"),
        ("critical", "critical", False, "fail"),
        ("minor", "minor", False, "fail"),
        ("trace", "minor", False, "warn"),
        ("trace", "trace", False, "fail"),
        ("critical", "never", False, "warn"),
        ("critical", "never", True, "warn"),
        ("trace", "budget", False, "warn"),
        ("critical", "budget", False, "warn"),
        ("trace", "budget", True, "fail"),
        ("trace", "critical", True, "fail"),  # a budget is a promise whatever the severity bar
        ("none", "budget", True, "fail"),
    ],
)
def test_policy(severity: str, threshold: str, over_budget: bool, status: str) -> None:
    assert status_for(severity, threshold, over_budget) == status  # type: ignore[arg-type]


def test_policy_rejects_unknown_threshold() -> None:
    assert fail_threshold({}) == "budget"
    with pytest.raises(ConfigError, match="fail_on: 'sometimes'"):
        fail_threshold({"fail_on": "sometimes"})


def test_resolve_target() -> None:
    assert resolve_target("os.path:join") is __import__("os").path.join
    with pytest.raises(UsageError, match="expected module:callable"):
        resolve_target("os.path.join")
    with pytest.raises(UsageError, match="cannot import module 'no_such_mod'"):
        resolve_target("no_such_mod:f")
    with pytest.raises(UsageError, match="has no attribute 'nope'"):
        resolve_target("os:nope")
    with pytest.raises(UsageError, match="is not callable"):
        resolve_target("os:sep")


@pytest.fixture
def fake_checks(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    calls: dict[str, list[str]] = {"leaks": [], "gc": []}
    fake: dict[str, registry.Check] = {}

    def leaks(component: ComponentSpec, spec: CheckSpec, ctx: registry.SuiteContext) -> CheckOutcome:
        calls["leaks"].append(component.name)
        if component.name == "boom":
            raise RuntimeError("engine bug")
        severity: Severity = "critical" if component.name == "leaky" else "none"
        return CheckOutcome(
            component.name,
            "leaks",
            status_for(severity, "critical"),
            severity,
            summary="ok",
            metrics={"bytes_per_1000_calls": 1.0},
            units={"bytes_per_1000_calls": "bytes"},
        )

    def gc_check(component: ComponentSpec, spec: CheckSpec, ctx: registry.SuiteContext) -> CheckOutcome:
        calls["gc"].append(component.name)
        return CheckOutcome(component.name, "gc", "warn", "minor", summary="p95 high")

    fake["leaks"] = leaks
    fake["gc"] = gc_check
    monkeypatch.setattr(registry, "_REGISTRY", fake)
    monkeypatch.setattr(registry, "_loaded", True)
    return calls


def test_runner_policy_and_progress(fake_checks: dict[str, list[str]]) -> None:
    cfg = config(
        components=[
            {"name": "clean", "operation": "os.path:join"},
            {"name": "leaky", "operation": "os.path:join"},
        ],
        checks={"gc": {"levels": ["quick"]}},
    )
    seen: list[tuple[int, int, str]] = []
    report = run_suite(cfg, level="quick", progress=lambda d, t, s: seen.append((d, t, s)))
    assert [(o.component, o.check, o.status) for o in report.outcomes] == [
        ("clean", "leaks", "pass"),
        ("clean", "gc", "warn"),
        ("leaky", "leaks", "fail"),
        ("leaky", "gc", "warn"),
    ]
    assert report.exit_code == 1
    assert report.headline == "FAILED at level quick: 1 pass, 2 warn, 1 fail"
    assert seen[0] == (0, 4, "clean: leaks")
    assert seen[-1] == (4, 4, "done")
    assert all(o.duration >= 0 for o in report.outcomes)


def test_warnings_pass_and_a_crashing_check_is_an_error(fake_checks: dict[str, list[str]]) -> None:
    cfg = config(
        components=[
            {"name": "clean", "operation": "os.path:join"},
            {"name": "boom", "operation": "os.path:join", "checks": ["leaks"]},
        ]
    )
    report = run_suite(cfg, level="quick")
    statuses = {(o.component, o.check): o for o in report.outcomes}
    assert statuses[("clean", "leaks")].status == "pass"
    boom = statuses[("boom", "leaks")]
    assert boom.status == "error"
    assert boom.summary == "check crashed: RuntimeError: engine bug"
    assert "Traceback" in boom.details
    assert report.exit_code == 1

    only_warn = run_suite(
        config(
            components=[{"name": "c", "operation": "os.path:join", "checks": ["gc"]}],
            checks={"gc": {"levels": ["quick"]}},
        ),
        level="quick",
    )
    assert only_warn.exit_code == 0
    assert only_warn.passed


def test_report_round_trips(fake_checks: dict[str, list[str]], tmp_path: Path) -> None:
    report = run_suite(config(components=[{"name": "c", "operation": "os.path:join"}]), level="quick")
    again = load_document(dump_document(report), expected=SuiteReport)
    assert again == report


def test_record_report_leaves_out_non_finite_metrics(tmp_path: Path) -> None:
    from memwatch.store import open_store
    from memwatch.suite.history import record_report

    report = SuiteReport(
        level="quick",
        started_at=0.0,
        duration=1.0,
        config_source="",
        exit_code=0,
        outcomes=(
            CheckOutcome(
                "c",
                "gc",
                "pass",
                metrics={"pause_p95": float("nan"), "collections": 3.0},
                units={"collections": "count"},
            ),
        ),
    )
    with open_store(str(tmp_path / "h.db")) as store:
        recorded = record_report(store, report)
        assert recorded.run_id is not None
        rows = store.results(recorded.run_id)
    assert [(r.test_id, r.metric, r.samples) for r in rows] == [("c::gc", "collections", (3.0,))]
