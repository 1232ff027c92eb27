"""Command-line options and ini keys of the plugin, and the settings read from them.

Each option has an ini key of the same name (``--memwatch-level`` <-> ``memwatch_level``)
and a key in ``[tool.memwatch.pytest]`` (``pytest:`` in memwatch.yaml) without the prefix
(``level``; ``record`` for ``--memwatch``). The command line wins over the ini file, which
wins over ``[tool.memwatch.pytest]``. The validation suite's ``level``, ``report_dir`` and
``store.url`` are not used: a pytest run writes reports and history only when asked.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from memwatch.errors import ConfigError, UsageError

__all__ = [
    "LEVELS",
    "SESSION_METRICS",
    "PluginSettings",
    "add_options",
    "check_db_path",
    "check_report_dir",
    "read_settings",
    "session_gates",
]

LEVELS = ("quick", "comprehensive", "nightly")


@dataclass(frozen=True)
class PluginSettings:
    """The plugin's options after the command line, the ini file and the defaults."""

    record: bool = False
    level: str = ""
    leaks: bool = False
    report_dir: str = ""
    db_url: str = ""
    isolate: bool = False
    tracemalloc: bool = False
    summary_rows: int = 10
    child_out: str = ""
    update_baselines: bool = False
    #: marker -> the lowest --memwatch-level it runs at (memwatch's, with ``[tool.memwatch.pytest] levels``)
    level_of: tuple[tuple[str, str], ...] = ()
    #: session-wide gates (``--memwatch-fail-on``): every recorded test against its baseline
    fail_on: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        """True when an option asks for the stateful part of the plugin."""
        return bool(
            self.record
            or self.level
            or self.leaks
            or self.report_dir
            or self.db_url
            or self.isolate
            or self.tracemalloc
            or self.child_out
            or self.update_baselines
            or self.fail_on
        )

    @property
    def reporting(self) -> bool:
        """True when every test is recorded (not only the ones with a checking marker)."""
        return bool(self.record or self.report_dir or self.db_url)


_BOOL_OPTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "memwatch",
        "--memwatch",
        "record every test body: peak over start, growth, duration; summary table at the end",
    ),
    (
        "memwatch_leaks",
        "--memwatch-leaks",
        "run every test body through the leak engine (slow; meant for nightly runs)",
    ),
    (
        "memwatch_isolate",
        "--memwatch-isolate",
        "run tests with a memwatch checking marker in a fresh subprocess",
    ),
    (
        "memwatch_tracemalloc",
        "--memwatch-tracemalloc",
        "also trace the Python heap (tracemalloc: slower) for its peak and the top allocation sites",
    ),
    (
        "memwatch_update_baselines",
        "--memwatch-update-baselines",
        "make this run's figures the baselines of its passed memory_regression tests (accept a change; "
        "needs --memwatch-db)",
    ),
)
_TEXT_OPTIONS: tuple[tuple[str, str, str, str], ...] = (
    (
        "memwatch_level",
        "--memwatch-level",
        "LEVEL",
        "which memory-marked tests run: quick (default suite), comprehensive (adds "
        "memory_comprehensive, memory_stress, stress, oom, recovery, slow) or nightly (adds memory_long); "
        "[tool.memwatch.pytest] levels moves markers between levels",
    ),
    (
        "memwatch_report",
        "--memwatch-report",
        "DIR",
        "write memwatch-pytest.json and memwatch-pytest.md into DIR (and $GITHUB_STEP_SUMMARY when set)",
    ),
    (
        "memwatch_db",
        "--memwatch-db",
        "URL",
        "record the run in the history database at URL (sqlite:///path or postgresql://...)",
    ),
    (
        "memwatch_summary_rows",
        "--memwatch-summary-rows",
        "N",
        "how many tests the terminal summary table lists, biggest peak first (default 10)",
    ),
)


def add_options(parser: pytest.Parser) -> None:
    """Register every option under one ``memwatch`` group, each with its ini key."""
    group = parser.getgroup("memwatch", "memwatch: memory budgets, leak checks and records")
    for dest, flag, help_text in _BOOL_OPTIONS:
        group.addoption(flag, action="store_true", dest=dest, default=None, help=help_text)
        parser.addini(dest, help=help_text, type="bool", default=None)
    for dest, flag, metavar, help_text in _TEXT_OPTIONS:
        group.addoption(flag, action="store", dest=dest, default=None, metavar=metavar, help=help_text)
        parser.addini(dest, help=help_text, type="string", default=None)
    fail_on_help = (
        "GATE such as peak:10% or growth:1MiB (repeatable): compare every recorded test with its "
        "baseline in --memwatch-db and fail the run when one fails a gate"
    )
    group.addoption(
        "--memwatch-fail-on",
        action="append",
        dest="memwatch_fail_on",
        default=None,
        metavar="GATE",
        help=fail_on_help.replace("%", "%%"),  # argparse formats help texts with %
    )
    parser.addini("memwatch_fail_on", help=fail_on_help, type="linelist", default=None)
    group.addoption("--memwatch-child-out", dest="memwatch_child_out", default=None, help=argparse.SUPPRESS)


#: option dest -> its key in [tool.memwatch.pytest]
_FILE_KEYS = {
    "memwatch": "record",
    "memwatch_level": "level",
    "memwatch_leaks": "leaks",
    "memwatch_report": "report",
    "memwatch_db": "db",
    "memwatch_isolate": "isolate",
    "memwatch_tracemalloc": "tracemalloc",
    "memwatch_summary_rows": "summary_rows",
    "memwatch_update_baselines": "update_baselines",
    "memwatch_fail_on": "fail_on",
}


def _file_defaults(config: pytest.Config) -> dict[str, Any]:
    """``[tool.memwatch.pytest]`` (or ``pytest:`` in memwatch.yaml) of the run, by option dest.

    The file is the one the rest of memwatch reads (found from the rootdir upwards); it
    is validated (pydantic) only when it has a pytest section, so a run without one
    pays a few file checks."""
    from memwatch.config.find import find_config, has_section

    found = find_config(config.rootpath)
    if found is None or not has_section(found, "pytest"):
        return {}
    from memwatch.config.schema import load_config

    section = load_config(found).pytest
    return {dest: getattr(section, key) for dest, key in _FILE_KEYS.items()} | {"levels": section.levels}


def read_settings(config: pytest.Config) -> PluginSettings:
    """Settings from the command line, the ini file and ``[tool.memwatch.pytest]``, in that
    order; :class:`ConfigError` on bad values."""
    defaults = _file_defaults(config)

    def value(dest: str) -> Any:
        found = config.getoption(dest, default=None)
        if found is None:
            found = config.getini(dest)
        return defaults.get(dest) if found is None else found

    level = str(value("memwatch_level") or "").strip()
    if level and level not in LEVELS:
        raise ConfigError(f"--memwatch-level: unknown level {level!r} (use quick, comprehensive or nightly)")
    rows_value = value("memwatch_summary_rows")
    rows_text = str(rows_value if rows_value is not None else 10).strip()
    try:
        rows = int(rows_text)
    except ValueError:
        rows = -1
    if rows < 0:
        raise ConfigError(f"--memwatch-summary-rows: {rows_text!r} is not a count of rows (0 or more)")
    if value("memwatch_update_baselines") and not value("memwatch_db"):
        raise ConfigError(
            "--memwatch-update-baselines needs --memwatch-db URL: the baselines live in the history database"
        )
    from memwatch.plugin.markers import level_map, registered_names

    level_of = level_map(defaults.get("levels"), registered_names(config))
    fail_on = session_gates(
        config.getoption("memwatch_fail_on", default=None)
        or config.getini("memwatch_fail_on")
        or defaults.get("memwatch_fail_on")
    )
    if fail_on and not value("memwatch_db"):
        raise ConfigError(
            "--memwatch-fail-on needs --memwatch-db URL: the baselines it compares with live in the history "
            "database"
        )
    return PluginSettings(
        level_of=tuple(sorted(level_of.items())),
        record=bool(value("memwatch")),
        level=level,
        leaks=bool(value("memwatch_leaks")),
        report_dir=str(value("memwatch_report") or ""),
        db_url=str(value("memwatch_db") or ""),
        isolate=bool(value("memwatch_isolate")),
        tracemalloc=bool(value("memwatch_tracemalloc")),
        summary_rows=rows,
        child_out=str(config.getoption("memwatch_child_out", default=None) or ""),
        update_baselines=bool(value("memwatch_update_baselines")),
        fail_on=fail_on,
    )


#: the figures of a test the session-wide gate compares (memory; a test's duration is recorded
#: too, but one run's duration of a millisecond test is noise, not a baseline)
SESSION_METRICS = ("peak", "growth", "native_peak", "python_peak")


def session_gates(given: Any) -> tuple[str, ...]:
    """``--memwatch-fail-on`` gates, checked: ConfigError (a usage error, exit 4) names a bad one."""
    if not given:
        return ()
    from memwatch.units import parse_gate

    gates = []
    for text in [given] if isinstance(given, str) else list(given):
        try:
            gate = parse_gate(text)
        except ConfigError as exc:
            raise ConfigError(f"--memwatch-fail-on: {exc}") from None
        if gate.metric not in SESSION_METRICS:
            raise ConfigError(
                f"--memwatch-fail-on {text!r}: the gate takes no metric {gate.metric!r} "
                f"(gates take {', '.join(SESSION_METRICS)})"
            )
        gates.append(text.strip())
    return tuple(gates)


def _check_names(option: str, given: str, path: Path) -> None:
    """UsageError when a name in ``path`` is longer than the file system takes (255 bytes)."""
    for part in path.parts:
        if len(os.fsencode(part)) > 255:
            raise UsageError(
                f"{option}: cannot use {given!r}: a name in the path is too long (at most 255 bytes a name)"
            )


def check_db_path(url: str, base: Path) -> None:
    """Refuse a SQLite ``--memwatch-db`` the run could not write at its end: an over-long
    name, or a folder that is not there (other databases are checked when opened)."""
    text = url.strip()
    if not text:
        raise UsageError("--memwatch-db: an empty value is not a database; leave the option out")
    if "://" in text and not text.lower().startswith("sqlite:///"):
        return
    raw = text[len("sqlite:///") :] if "://" in text else text
    raw = raw.split("?", 1)[0]
    if raw in ("", ":memory:") or raw.startswith("file:"):
        return
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = base / path
    _check_names("--memwatch-db", url, path)
    try:
        if path.is_dir():
            raise UsageError(f"--memwatch-db: {url!r} is a folder, not a database file")
    except OSError as exc:
        raise UsageError(f"--memwatch-db: cannot use {url!r}: {exc.strerror or exc}") from None


def check_report_dir(path: str, base: Path) -> Path:
    """Create the report folder if needed and prove it can be written, else :class:`UsageError`."""
    folder = Path(path)
    if not folder.is_absolute():
        folder = base / folder
    _check_names("--memwatch-report", path, folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"--memwatch-report: {path!r} is not a folder")
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--memwatch-report: cannot create {path!r}: {exc.strerror or exc}") from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".memwatch-probe-", dir=folder)
    except OSError as exc:
        raise UsageError(f"--memwatch-report: {path!r} is not writable: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(probe)
    return folder
