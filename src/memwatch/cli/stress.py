"""``memwatch stress``: scenarios on module:callable, or the seed's CPU/GPU toggle harness, in a capped child.

Exit codes: 0 every scenario passed, 1 a check failed, 2 bad input (one line on stderr),
4 no verdict (a ramp without a breaking point, a soak that could not decide).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import click

from memwatch.cli._outpath import check_writable
from memwatch.errors import (
    EXIT_CHECK_FAILED,
    EXIT_INCONCLUSIVE,
    EXIT_OK,
    ConfigError,
    UsageError,
)
from memwatch.model.base import dump_document, write_document
from memwatch.model.stress import ScenarioResult, StressCheck, StressReport
from memwatch.units import format_duration, format_size, parse_duration, parse_size

__all__ = ["command", "parse_hours"]

_SCENARIOS = ("ramp", "spike", "fragmentation", "concurrent", "soak")
_NUMBER = re.compile(r"^\s*(\d+(\.\d*)?|\.\d+)\s*$")
MB = 10**6
# Concurrent workers: each thread reserves a stack (8 MiB) under the cap; beyond this
# the scenario measures thread creation failing, not the code under test.
MAX_WORKERS = 1024


def parse_hours(text: str) -> float:
    """Seconds for ``--duration``: a bare number is hours (the seed's ``--duration 1.0``),
    anything with a unit goes through :func:`memwatch.units.parse_duration` (``30s``, ``1h``)."""
    if _NUMBER.match(text):
        seconds = float(text) * 3600.0
        if seconds <= 0:
            raise ConfigError(f"invalid duration {text!r}: must be a positive number of hours")
        return seconds
    return parse_duration(text)


def _megabytes(name: str, value: float | None) -> int:
    if value is None:
        return 0
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"invalid {name} {value!r}: expected MB >= 0")
    return round(value * MB)


def _count(name: str, value: int, minimum: int = 1, maximum: int | None = None) -> int:
    if value < minimum:
        raise ConfigError(f"invalid {name} {value}: must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"invalid {name} {value}: must be <= {maximum:,}")
    return value


def clean_stale_folders(tmp: str | None = None, *, min_age: float = 3600.0) -> list[str]:
    """Remove ``memwatch-stress-*`` folders a killed memwatch left in the temporary directory.

    A folder is stale when the process named as ``parent`` in its ``spec.json`` is gone
    (a SIGKILLed memwatch never ran its clean-up), or, without a readable spec, when it is
    older than ``min_age`` seconds. A running memwatch's folder is never touched. Returns
    the folders removed."""
    import shutil
    import tempfile
    import time

    base = Path(tmp or tempfile.gettempdir())
    removed: list[str] = []
    try:
        candidates = list(base.glob("memwatch-stress-*"))
    except OSError:
        return removed
    for folder in candidates:
        try:
            if not folder.is_dir() or folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
            try:
                parent = int(json.loads((folder / "spec.json").read_text(encoding="utf-8"))["parent"])
            except (OSError, ValueError, KeyError, TypeError):
                parent = None
            if parent is not None:
                if parent == os.getpid() or _alive(parent):
                    continue
            elif time.time() - folder.stat().st_mtime < min_age:
                continue
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(str(folder))
        except OSError:
            continue
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _value(check: StressCheck, value: float) -> str:
    if math.isnan(value):
        return "-"
    if check.unit == "bytes":
        return format_size(value, signed=value < 0)
    if check.unit in ("bytes/s", "bytes/h"):  # their targets are set in MB: show MB
        return format_size(value, signed=value < 0, binary=False) + check.unit[-2:]
    if check.unit == "ratio":
        return f"{value * 100:.1f}%"
    if math.isinf(value):
        return "∞"
    return f"{value:,.0f}" if value == int(value) else f"{value:g}"


def _echo_scenario(result: ScenarioResult) -> None:
    wall = sum(c.wall_time for c in result.children)
    word = "PASS" if result.passed else "INCONCLUSIVE" if result.inconclusive else "FAIL"
    click.echo(
        f"{result.scenario:<14} {word}   {len(result.children)} child run(s), {format_duration(wall)}, "
        f"CPU {format_duration(result.cpu_time)} ({result.cpu_utilisation:.0%} of a core)"
    )
    for chk in result.checks:
        text = f"{_value(chk, chk.value)} {chk.op} {_value(chk, chk.target)}" if chk.op else ""
        detail = f"  ({chk.detail})" if chk.detail else ""
        click.echo(f"  {chk.name:<26} {chk.status:<12} {text}{detail}")
    for note in result.notes:
        click.echo(f"  note: {note}")


def _emit(report: StressReport, as_json: bool, output: str | None) -> int:
    if output:
        write_document(report, output)
    if as_json:
        click.echo(json.dumps(dump_document(report), sort_keys=True, indent=1, allow_nan=False))
    else:
        what = report.target or "the built-in churn"
        harness = report.scenarios[0] if report.scenarios[0].scenario == "harness" else None
        if harness is not None:
            p = harness.params
            what = (
                f"harness{' on ' + report.target if report.target else ''}: CPU {format_size(float(p['cpu']), binary=False)}, "
                f"GPU {format_size(float(p['gpu']), binary=False)}, toggled every "
                f"{format_duration(float(p['toggle']))} for {format_duration(float(p['duration']))}"
            )
        click.echo(f"stress {what} under a {format_size(report.limit)} cap ({report.cap_method})")
        for result in report.scenarios:
            _echo_scenario(result)
        if output:
            click.echo(f"saved {output}")
    if report.passed:
        return EXIT_OK
    # no scenario failed, yet one could not decide (a ramp without a breaking point, a soak
    # whose growth interval straddles its target): no verdict, as `memwatch leaks` says it
    if all(r.passed or r.inconclusive for r in report.scenarios):
        return EXIT_INCONCLUSIVE
    return EXIT_CHECK_FAILED


@click.command("stress")
@click.argument("target", required=False, default="")
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    metavar="NAME",
    help=f"One of {', '.join(_SCENARIOS)}, or 'all'; repeatable (default: ramp).",
)
@click.option(
    "--limit",
    default=None,
    metavar="SIZE",
    help="Memory cap of the child, e.g. 512MiB (default: stress.limit from the config file, else "
    "512MiB; harness: CPU pressure + 256MiB).",
)
@click.option(
    "--duration",
    default=None,
    metavar="TIME",
    help="Soak and harness length; a bare number is hours (1.0), else 30s, 10min, 1h "
    "(default: stress.duration, else 60s; the harness: 1 h).",
)
@click.option("--load", type=int, default=None, help="Argument passed to the target (not in ramp).")
@click.option("--start", type=int, default=1, show_default=True, help="Ramp: first load tried.")
@click.option("--max-load", type=int, default=1_000_000, show_default=True, help="Ramp: largest load tried.")
@click.option("--repeats", type=int, default=1, show_default=True, help="Spike: number of spikes.")
@click.option("--cycles", type=int, default=100, show_default=True, help="Fragmentation: cycles.")
@click.option(
    "--size",
    default="50MB",
    show_default=True,
    help="Fragmentation without a target: bytes churned per cycle.",
)
@click.option("--threads", type=int, default=4, show_default=True, help="Concurrent: threads.")
@click.option("--tasks", type=int, default=4, show_default=True, help="Concurrent: asyncio tasks.")
@click.option("--iterations", type=int, default=10, show_default=True, help="Concurrent: calls per worker.")
@click.option("--timeout", default=None, help="Time limit of one child (default: stress.timeout, else 300s).")
@click.option(
    "--cap",
    "cap_method",
    type=click.Choice(["auto", "rlimit", "cgroup"]),
    default=None,
    help="How to cap the child: a cgroup v2 group where writable, else RLIMIT_DATA "
    "(default: stress.cap, else auto).",
)
@click.option(
    "--max-rss-growth",
    default=None,
    metavar="SIZE",
    help="Fail a scenario whose child's RSS rises more than SIZE over its first reading, e.g. 500MB "
    "(default: stress.max_rss_growth; unset: reported only).",
)
@click.option(
    "--max-vms-growth",
    default=None,
    metavar="SIZE",
    help="Fail a scenario whose child's virtual memory size (VMS) rises more than SIZE over its first "
    "reading, e.g. 800MB (default: stress.max_vms_growth; unset: reported only).",
)
@click.option(
    "--harness",
    is_flag=True,
    help="Run document 003's toggle harness (1 h, 500 MB CPU and 1000 MB GPU pressure, toggled every "
    "30 s; each flag below overrides one); a TARGET, if given, is called once per on-phase.",
)
@click.option(
    "--cpu-pressure", type=float, default=None, metavar="MB", help="Harness: MB held in on-phases (500)."
)
@click.option(
    "--gpu-pressure",
    type=float,
    default=None,
    metavar="MB",
    help="Harness: MB on the GPU (torch) where one exists (1000).",
)
@click.option(
    "--toggle-interval",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Harness: seconds between switching the pressure on and off (30).",
)
@click.option(
    "--fake-gpu",
    type=float,
    default=None,
    hidden=True,
    metavar="MB",
    help="Tests: a fake CUDA device of this many MB instead of torch.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the stress_report document as JSON.")
@click.option("--output", "-o", default=None, metavar="FILE", help="Save the report (JSON) to FILE.")
def command(
    target: str,
    scenarios: tuple[str, ...],
    limit: str | None,
    duration: str | None,
    load: int | None,
    start: int,
    max_load: int,
    repeats: int,
    cycles: int,
    size: str,
    threads: int,
    tasks: int,
    iterations: int,
    timeout: str | None,
    cap_method: str | None,
    max_rss_growth: str | None,
    max_vms_growth: str | None,
    harness: bool,
    cpu_pressure: float | None,
    gpu_pressure: float | None,
    toggle_interval: float | None,
    fake_gpu: float | None,
    as_json: bool,
    output: str | None,
) -> int:
    """Stress module:callable under memory pressure in a capped child process.

    ramp calls func(load) in a fresh child per load; the other scenarios call func(),
    or func(LOAD) with --load. Exit codes: 0 every check passed, 1 a check failed,
    2 bad input, 4 no verdict (no check failed, but one could not decide).

    \b
    memwatch stress app.jobs:load --scenario ramp --limit 512MiB    (func(load): breaking point)
    memwatch stress app.jobs:step --scenario spike --scenario soak --duration 10min
    memwatch stress --harness                  (document 003's harness: 1 h, 500 MB CPU, 1000 MB GPU)
    memwatch stress --harness --duration 10min --cpu-pressure 1000 --toggle-interval 60
    """
    from memwatch.config.options import stress_options
    from memwatch.config.schema import load_config

    config = load_config()
    flags = {
        "duration": parse_hours(duration) if duration is not None else None,
        "timeout": timeout,
        "cap_method": cap_method,
        "max_rss_growth": max_rss_growth,
        "max_vms_growth": max_vms_growth,
    }
    resolved = stress_options(door=flags, config=config)
    clean_stale_folders()
    seconds, child_timeout, cap_method = resolved.duration, resolved.timeout, resolved.cap_method
    if output:
        check_writable(output)  # before the run, which may take an hour
    harness = harness or any(v is not None for v in (cpu_pressure, gpu_pressure, toggle_interval))
    cap = parse_size(limit) if limit is not None else None
    if harness:
        from memwatch.stress.seed import HARNESS_DEFAULTS

        if scenarios:
            raise UsageError(
                "--harness (and --cpu-pressure, --gpu-pressure, --toggle-interval) runs without --scenario"
            )
        if target and ":" not in target:
            raise UsageError(
                f"invalid target {target!r}: expected module:callable, e.g. app.audio:toggle_recording"
            )
        if duration is None and "duration" not in config.stress.model_fields_set:
            seconds = HARNESS_DEFAULTS["duration"]  # document 003's default: one hour
        with _sigterm_interrupts():
            return _run_harness(
                seconds,
                HARNESS_DEFAULTS["cpu"] / MB if cpu_pressure is None else cpu_pressure,
                HARNESS_DEFAULTS["gpu"] / MB if gpu_pressure is None else gpu_pressure,
                toggle_interval,
                cap,
                cap_method,
                fake_gpu,
                as_json,
                output,
                target=target,
                load=load,
            )
    names = _scenario_names(scenarios)
    if not target and names != ["fragmentation"]:
        raise UsageError(
            "give a target module:callable (or --scenario fragmentation for the built-in "
            "churn, or the harness flags --cpu-pressure/--gpu-pressure)"
        )
    if target and ":" not in target:
        raise UsageError(
            f"invalid target {target!r}: expected module:callable, e.g. app.handlers:handle_request"
        )
    if start < 1 or max_load < start:
        raise ConfigError(f"invalid ramp range --start {start} --max-load {max_load}: need 1 <= start <= max")
    if "concurrent" in names and threads == 0 and tasks == 0:
        raise ConfigError("invalid --threads 0 --tasks 0: the concurrent scenario needs at least one worker")
    from memwatch.stress.scenarios import StressOptions, run_stress

    opts = StressOptions(
        limit=resolved.limit if cap is None else cap,
        cap_method=cap_method,  # type: ignore[arg-type]
        timeout=child_timeout,
        load=load,
        start=start,
        max_load=max_load,
        repeats=_count("--repeats", repeats),
        cycles=_count("--cycles", cycles),
        size=_count("--size", parse_size(size)),
        threads=_count("--threads", threads, 0, MAX_WORKERS),
        tasks=_count("--tasks", tasks, 0, MAX_WORKERS),
        iterations=_count("--iterations", iterations),
        duration=seconds,
        max_rss_growth=resolved.max_rss_growth,
        max_vms_growth=resolved.max_vms_growth,
    )
    with _sigterm_interrupts():
        report = run_stress(target, names, opts)
    return _emit(report, as_json, output)


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While children run: SIGTERM (a CI timeout, ``timeout``, ``kill``) interrupts like
    Ctrl-C, so the child is killed and its temporary folder removed before memwatch exits
    (exit 130). Only in the main thread, and never over a handler the program installed."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _scenario_names(scenarios: tuple[str, ...]) -> list[str]:
    names: list[str] = []
    for name in scenarios or ("ramp",):
        if name == "all":
            names.extend(_SCENARIOS)
        elif name in _SCENARIOS:
            names.append(name)
        else:
            raise ConfigError(f"unknown scenario {name!r}: use one of {', '.join(_SCENARIOS)} or all")
    return list(dict.fromkeys(names))


def _run_harness(
    seconds: float,
    cpu_mb: float | None,
    gpu_mb: float | None,
    toggle: float | None,
    cap: int | None,
    cap_method: str,
    fake_gpu: float | None,
    as_json: bool,
    output: str | None,
    *,
    target: str = "",
    load: int | None = None,
) -> int:
    import os
    import platform
    import socket
    import time

    from memwatch.stress.seed import run_harness

    cpu, gpu = _megabytes("--cpu-pressure", cpu_mb), _megabytes("--gpu-pressure", gpu_mb)
    if not cpu and not gpu:
        raise ConfigError("the harness needs --cpu-pressure or --gpu-pressure above 0 MB")
    interval = 30.0 if toggle is None else toggle
    if not math.isfinite(interval) or interval <= 0:
        raise ConfigError(f"invalid --toggle-interval {toggle!r}: expected seconds > 0")
    started, clock = time.time(), time.monotonic()
    result = run_harness(
        duration=seconds,
        cpu=cpu,
        gpu=gpu,
        toggle=interval,
        limit=cap,
        cap_method=cap_method,
        fake_gpu_total=_megabytes("--fake-gpu", fake_gpu) if fake_gpu is not None else None,
        target=target,
        args=() if load is None else (load,),
    )
    report = StressReport(
        target=target,
        limit=result.children[0].cap,
        cap_method=result.children[0].cap_method,
        scenarios=(result,),
        started_at=started,
        duration=time.monotonic() - clock,
        host=socket.gethostname(),
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.release()} ({os.cpu_count()} cpus)",
    )
    return _emit(report, as_json, output)
