"""Run the validation suite at a level: plan, run each check, apply the policy, report.

Exit codes: 0 every check passed or only warned, 1 a check failed or could not run
(the component raised, an engine crashed), 2 a configuration error (raised before
anything runs).
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memwatch.config.schema import Config, load_config
from memwatch.errors import (
    EXIT_CHECK_FAILED,
    EXIT_OK,
    ConfigError,
    MemwatchError,
    OperationError,
    UsageError,
)
from memwatch.model.suite import CheckOutcome, SuiteReport
from memwatch.suite.checks import SuiteContext, available_checks, get_check, timed
from memwatch.suite.spec import (
    CheckSpec,
    ComponentSpec,
    SuiteSpec,
    importable_from,
    resolve_target,
    suite_spec,
)

__all__ = ["Progress", "check_components", "check_suite", "run_suite"]

# progress(done, total, label) — the CLI draws a progress bar with it
Progress = Callable[[int, int, str], None]


def run_suite(
    config: Config | str | os.PathLike[str] | None = None,
    *,
    level: str | None = None,
    store: Any = None,
    debug: bool = False,
    progress: Progress | None = None,
) -> SuiteReport:
    """Run every check that ``level`` (default: the config's) selects; return the report."""
    if not isinstance(config, Config):
        config = load_config(config)
    level = level or config.level
    spec, plan = check_suite(config, level)
    environment = _environment()
    ctx = SuiteContext(
        config=config, level=level, base_dir=spec.base_dir, store=store, environment=environment, debug=debug
    )
    started = time.time()
    t0 = time.perf_counter()
    outcomes: list[CheckOutcome] = []
    with importable_from(spec.base_dir):
        for index, (component, check) in enumerate(plan):
            label = f"{component.name}: {check.name}"
            if progress is not None:
                progress(index, len(plan), label)
            outcomes.append(_run_one(component, check, ctx))
        if progress is not None:
            progress(len(plan), len(plan), "done")
    failed = any(o.status in ("fail", "error") for o in outcomes)
    return SuiteReport(
        level=level,  # type: ignore[arg-type]
        started_at=started,
        duration=time.perf_counter() - t0,
        config_source=config.source,
        outcomes=tuple(outcomes),
        exit_code=EXIT_CHECK_FAILED if failed else EXIT_OK,
        environment=environment,
    )


def check_suite(config: Config, level: str) -> tuple[SuiteSpec, list[tuple[ComponentSpec, CheckSpec]]]:
    """Everything that can be wrong with the configuration, found before anything runs:
    the suite sections, the level, every component's import paths and every planned
    check's options. Returns the suite and the plan at ``level``."""
    from memwatch.suite.check_options import preflight

    spec = suite_spec(config, available_checks())
    plan = spec.plan(level)
    check_components(spec)
    preflight(plan, SuiteContext(config=config, level=level, base_dir=spec.base_dir))
    return spec, plan


def check_components(spec: SuiteSpec) -> None:
    """Import every component's operation and factory: a bad path is a config error,
    found before anything runs or is written."""
    with importable_from(spec.base_dir):
        for component in spec.components:
            for path in (component.operation, component.factory):
                if not path:
                    continue
                try:
                    resolve_target(path)
                except UsageError as exc:
                    raise ConfigError(f"component {component.name!r}: {exc}") from None


def _run_one(component: ComponentSpec, check: CheckSpec, ctx: SuiteContext) -> CheckOutcome:
    fn = get_check(check.name)
    start = time.perf_counter()
    try:
        return timed(lambda: fn(component, check, ctx))
    except OperationError as exc:
        details = exc.traceback_text or ""
        summary = f"the operation raised: {exc}"
    except MemwatchError as exc:
        details = traceback.format_exc() if ctx.debug else ""
        summary = str(exc)
    except Exception as exc:  # an engine bug must not hide the other checks' results
        details = traceback.format_exc()
        summary = f"check crashed: {type(exc).__name__}: {exc}"
    return CheckOutcome(
        component=component.name,
        check=check.name,
        status="error",
        summary=summary,
        details=details,
        duration=time.perf_counter() - start,
    )


def _environment() -> dict[str, Any]:
    try:
        from memwatch.store import environment_fingerprint
    except ImportError:
        import platform
        import sys

        return {"python": sys.version.split()[0], "platform": platform.platform()}
    return dict(environment_fingerprint())


def default_report_dir(config: Config) -> Path:
    """The config's ``report_dir``, relative to the config file's folder."""
    base = Path(config.source).parent if config.source else Path.cwd()
    return Path(os.path.normpath(base / config.report_dir))
