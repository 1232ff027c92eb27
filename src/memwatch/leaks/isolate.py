"""``--isolate``: run the leak detection in a child process.

An operation that crashes the interpreter (a segfault in a C extension, ``os._exit``,
the OOM killer) then takes only the child with it; the parent reports how the
child ended. The child is run by :func:`memwatch.runs.child.run_child`: in its own
process group, stopped (SIGTERM, then SIGKILL) past ``timeout``. The child writes the report as a versioned JSON document (atomically)
to a file the parent names, and exits with memwatch's usual codes on errors.

Run as ``python -m memwatch.leaks.isolate TARGET OPTIONS_JSON OUTPUT``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any

from memwatch.errors import EXIT_USAGE, MemwatchError, OperationError, UsageError
from memwatch.model.base import load_document, write_document
from memwatch.model.leaks import LeakReport
from memwatch.runs.child import run_child, signal_name

__all__ = ["main", "run_isolated"]

_OPTIONS = (
    "iterations",
    "warmup",
    "max_growth",
    "time_budget",
    "attribute",
    "reset_caches",
    "expected_exceptions",
    "severity",
    "signals",
)


def run_isolated(target: str, *, timeout: float | None = None, **options: Any) -> LeakReport:
    """``detect_leaks`` on ``module:callable`` in a child process; returns its report.

    Raises :class:`UsageError` for a bad target, :class:`OperationError` when the
    operation raised or the child died (with the signal's name).
    """
    unknown = set(options) - set(_OPTIONS)
    if unknown:
        raise UsageError(f"run_isolated: unknown option(s) {', '.join(sorted(unknown))}")
    # Exception classes travel by name: "ValueError" or "module:Class".
    options["expected_exceptions"] = [
        exc
        if isinstance(exc, str)
        else (exc.__name__ if exc.__module__ == "builtins" else f"{exc.__module__}:{exc.__qualname__}")
        for exc in options.get("expected_exceptions", ())
    ]
    with tempfile.TemporaryDirectory(prefix="memwatch-isolate-") as folder:
        output = os.path.join(folder, "report.json")
        cmd = [sys.executable, "-m", "memwatch.leaks.isolate", target, json.dumps(options), output]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (os.getcwd(), os.environ.get("PYTHONPATH", "")) if p),
        }
        run = run_child(cmd, timeout=timeout, env=env, document=output)
    ending = run.ending
    if ending.kind == "timeout":
        raise OperationError(f"the isolated run of {target} {ending.describe()}", traceback_text=run.stderr)
    if ending.kind == "failed-to-start":
        raise OperationError(f"the isolated run of {target} {ending.describe()}")
    if ending.signal is not None:
        raise OperationError(
            f"the operation crashed the child process ({signal_name(ending.signal)}); "
            "memwatch itself is unaffected",
            traceback_text=run.stderr,
        )
    if ending.exit_code != 0:
        lines = [line for line in run.stderr.strip().splitlines() if line.strip()]
        message = (
            lines[-1].removeprefix("memwatch: error: ") if lines else f"the child process {ending.describe()}"
        )
        if ending.exit_code == EXIT_USAGE:
            raise UsageError(message)
        # the child's traceback without its last line, the message said again here
        above = run.stderr.rstrip().rpartition("\n")[0] if lines else run.stderr
        raise OperationError(message, traceback_text=above)
    return load_document(run.document, expected=LeakReport, source=output)


def main(argv: list[str] | None = None) -> int:
    """The child's entry point: detect, write the report, exit with memwatch's codes."""
    from dataclasses import fields

    from memwatch.config.options import LeakOptions
    from memwatch.config.target import load_exception, resolve_target
    from memwatch.leaks.runner import detect_leaks

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print("usage: python -m memwatch.leaks.isolate TARGET OPTIONS_JSON OUTPUT", file=sys.stderr)
        return EXIT_USAGE
    target, options_text, output = args
    try:
        options = json.loads(options_text)
        options["expected_exceptions"] = tuple(
            load_exception(name) for name in options.get("expected_exceptions", ())
        )
        func = resolve_target(target, no_args=True)
        names = {f.name for f in fields(LeakOptions)}
        if names <= set(options):  # resolved by the parent: the child reads no config of its own
            given = {k: options.pop(k) for k in names}
            signals = given["signals"]
            given["signals"] = tuple(signals) if signals is not None else None
            options["options"] = LeakOptions(**given)
        report = detect_leaks(func, **options)
        write_document(report, output)
    except OperationError as exc:
        sys.stderr.write(exc.traceback_text)
        print(f"memwatch: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except MemwatchError as exc:
        print(f"memwatch: error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":  # pragma: no cover - run in the child
    sys.exit(main())
