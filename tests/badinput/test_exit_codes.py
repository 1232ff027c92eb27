"""docs/cli.md's exit-code tables against what the commands return."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

import memwatch
from memwatch import errors
from memwatch.cli import COMMANDS

from .conftest import Outcome

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _rows(heading: str) -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("|")
    ]
    return [r for r in rows[1:] if not set("".join(r)) <= set("-: ")]  # no header, no rule


def test_code_table_is_the_one_in_errors() -> None:
    rows = _rows("Exit codes")
    table = {name: int(code) for code, name, _ in rows}
    assert table == {
        "EXIT_OK": errors.EXIT_OK,
        "EXIT_CHECK_FAILED": errors.EXIT_CHECK_FAILED,
        "EXIT_USAGE": errors.EXIT_USAGE,
        "EXIT_OTHER": errors.EXIT_OTHER,
        "EXIT_INCONCLUSIVE": errors.EXIT_INCONCLUSIVE,
    }
    assert errors.UsageError("x").exit_code == errors.ConfigError("x").exit_code == errors.EXIT_USAGE
    assert errors.DataError("x").exit_code == errors.EXIT_USAGE
    assert errors.CheckFailed("x").exit_code == errors.EXIT_CHECK_FAILED
    assert errors.OperationError("x").exit_code == errors.EXIT_OTHER


# (command, the failure's words in the table) -> argv
FAILURES: dict[tuple[str, str], Callable[[Path], list[str]]] = {
    ("run", "`memwatch run -o /no/such/folder/x.json -- true`"): lambda d: [
        "run",
        "-o",
        str(d / "no" / "such" / "x.json"),
        "--",
        "true",
    ],
    ("plot", "a run file that is not there"): lambda d: ["plot", str(d / "missing.json")],
    ("report", "a file that is not JSON"): lambda d: ["report", _write(d / "bad.json", b"not json")],
    ("compare", "`--min-change 1e400GB`"): lambda d: [
        "compare",
        "a.json",
        "b.json",
        "--min-change",
        "1e400GB",
    ],
    ("benchmark", "no command given"): lambda d: ["benchmark"],
    ("leaks", "an unknown target"): lambda d: ["leaks", "bi_nosuch:f"],
    ("leaks", "a target that raises"): lambda d: ["leaks", "bi_targets:boom"],
    ("gc", "an unknown target"): lambda d: ["gc", "bi_nosuch:f"],
    ("gc", "a target that raises"): lambda d: ["gc", "bi_targets:boom", "-n", "5"],
    ("gc", "a pause limit broken"): lambda d: [
        "gc",
        "bi_targets:cycles",
        "-n",
        "30",
        "--max-pause-p95",
        "1e-9",
    ],
    ("stress", "`--limit 1e400GB`"): lambda d: ["stress", "bi_targets:ok", "--limit", "1e400GB"],
    ("bench", "`--config` naming a file that is not there"): lambda d: [
        "bench",
        "--config",
        str(d / "missing.yaml"),
    ],
    ("bench", "`--record`, a hit rate below its stored baseline"): lambda d: [
        "bench",
        "--quick",
        "--only",
        "cache_hit_rate",
        "--record",
        "--config",
        _hit_rate_baseline(d, 0.95),
    ],
    ("history", "a database file that is not there"): lambda d: [
        "history",
        "t",
        "--db",
        str(d / "missing.db"),
    ],
    ("baseline", "a database file that is not there"): lambda d: [
        "baseline",
        "show",
        "--db",
        str(d / "missing.db"),
    ],
    ("validate", "a config file that is not UTF-8"): lambda d: [
        "validate",
        "--config",
        _write(d / "bin.yaml", b'leaks:\n  max_growth: "\xff\xfe"\n'),
    ],
    ("probes", "an unknown option"): lambda d: ["probes", "--bogus"],
    ("dashboard", "a database file that is not there"): lambda d: [
        "dashboard",
        "--db",
        str(d / "missing.db"),
        "-o",
        str(d / "site"),
    ],
    ("lines", "a script that is not there"): lambda d: ["lines", str(d / "missing.py")],
    ("guard", "a budget in an unknown unit"): lambda d: ["guard", "--budget", "12XB", "--", "true"],
    ("config", "a config file that is not there"): lambda d: ["config", "convert", str(d / "missing.yaml")],
}


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def _hit_rate_baseline(folder: Path, value: float) -> str:
    """A config naming a history database whose cache_hit_rate baseline is ``value`` (the seeded
    workload gives 0.73 everywhere); returns the config's path."""
    from memwatch.store import open_store

    db = folder / "bench-history.db"
    with open_store(str(db)) as store:
        store.set_baseline("memwatch.benchset", "cache_hit_rate", "fraction", [value] * 4)
    return _write(folder / "bench.yaml", f"store:\n  url: sqlite:///{db}\n".encode())


def test_every_command_has_a_row() -> None:
    documented = {command for command, _, _ in _rows("The representative failure of each command")}
    assert documented == set(COMMANDS)
    assert {(c, f) for c, f, _ in _rows("The representative failure of each command")} == set(FAILURES)


@pytest.mark.parametrize(
    ("command", "failure", "code"),
    [
        pytest.param(c, f, int(code), id=f"{c}: {f}")
        for c, f, code in _rows("The representative failure of each command")
    ],
)
def test_representative_failure_exits_with_the_documented_code(
    mw: Callable[..., Outcome], workdir: Path, command: str, failure: str, code: int
) -> None:
    outcome = mw(*FAILURES[command, failure](workdir))
    assert outcome.code == code, outcome.err
    # only a target's own traceback, in leaks and gc, and never a frame of memwatch's
    assert "Traceback (most recent call last)" not in outcome.err or command in ("leaks", "gc"), outcome.err
    assert os.path.dirname(os.path.abspath(memwatch.__file__)) not in outcome.err, outcome.err
    assert "internal error" not in outcome.err
    if code == errors.EXIT_USAGE:
        assert re.match(r"memwatch: error: \S", outcome.line), outcome.err
