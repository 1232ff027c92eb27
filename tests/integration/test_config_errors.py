"""Every config mistake is one line on stderr and exit 2, before anything is measured.

The component's operation writes a file when it is called: after a config error the
file must not exist (nothing ran), and no report folder is created.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from memwatch.cli import main

APP = """
from pathlib import Path

def operate():
    Path(__file__).with_name("CALLED").touch()

def make():
    return object()
"""


@pytest.fixture(autouse=True)
def fresh_module() -> Iterator[None]:
    """Each test imports its own shopmod (it writes CALLED next to itself)."""
    sys.modules.pop("shopmod", None)
    yield
    sys.modules.pop("shopmod", None)


GOOD = """\
components:
  - name: shop
    operation: shopmod:operate
"""

CASES: list[tuple[str, str, str]] = [
    (
        "typo in a component",
        "components:\n  - name: shop\n    opration: shopmod:operate\n",
        r"memwatch.yaml:3: components[0].opration: unknown key (did you mean 'operation'?)",
    ),
    (
        "typo in a component's check block",
        GOOD + "    leaks: {max_growt: 1 kB}\n",
        r"memwatch.yaml:4: components[0].leaks.max_growt: unknown key (did you mean 'max_growth'?)",
    ),
    (
        "typo in a check block",
        GOOD + "checks:\n  leaks:\n    fail_onn: trace\n",
        r"memwatch.yaml:6: checks.leaks.fail_onn: unknown key (did you mean 'fail_on'?)",
    ),
    (
        "bad fail_on",
        GOOD + "checks:\n  leaks: {fail_on: trase}\n",
        r"memwatch.yaml:5: checks.leaks.fail_on: 'trase' is not one of budget, trace, minor, major, "
        r"critical, never (did you mean 'trace'?)",
    ),
    (
        "typo at the top level",
        GOOD + "levle: quick\n",
        r"memwatch.yaml:4: levle: unknown key (did you mean 'level'?)",
    ),
    (
        "typo in a section",
        GOOD + "leaks:\n  max_grwth: 1 MB\n",
        r"memwatch.yaml:5: leaks.max_grwth: unknown key (did you mean 'max_growth'?)",
    ),
    (
        "bad size",
        GOOD + "leaks:\n  max_growth: 12 XB\n",
        r"memwatch.yaml:5: leaks.max_growth: invalid size '12 XB'",
    ),
    (
        "unknown level in a per-level value",
        GOOD + "checks:\n  leaks:\n    iterations: {quik: 200}\n",
        r"memwatch.yaml:6: checks.leaks.iterations: unknown level 'quik' (did you mean 'quick'?)",
    ),
    (
        "unknown check in a component",
        GOOD + "    checks: [leak]\n",
        r"memwatch.yaml:4: components[0].checks: unknown check 'leak' (did you mean 'leaks'?)",
    ),
    (
        "unknown check block",
        GOOD + "checks:\n  regresion: {}\n",
        r"memwatch.yaml:5: checks.regresion: unknown check (did you mean 'regression'?)",
    ),
    (
        "malformed gate",
        GOOD + "checks:\n  regression: {gates: [peak10%]}\n",
        r"memwatch.yaml:5: checks.regression.gates[0]: invalid gate 'peak10%'",
    ),
    (
        "contradicting gc limits",
        GOOD + "checks:\n  gc: {levels: [quick], thresholds: {max_pause_p95_ms: 50, max_pause_ms: 10}}\n",
        r"components[0] (shop), check gc: GC thresholds make no sense",
    ),
    (
        "unknown benchmark",
        GOOD + "checks:\n  bench: {levels: [quick], only: [alloc_rate]}\n",
        r"components[0] (shop), check bench: only: unknown benchmark 'alloc_rate'",
    ),
    (
        "an operation that does not import",
        "components:\n  - name: shop\n    operation: shopmod:nope\n",
        "component 'shop': target 'shopmod:nope': module 'shopmod' has no attribute 'nope'",
    ),
    (
        "an import path without a colon",
        "components:\n  - name: shop\n    operation: shopmod.operate\n",
        r"memwatch.yaml:3: components[0].operation: 'shopmod.operate' is not an import path",
    ),
    (
        "duplicate component",
        GOOD + "  - name: shop\n    operation: shopmod:operate\n",
        r"memwatch.yaml:4: components[1].name: duplicate component name 'shop'",
    ),
    (
        "YAML syntax error",
        GOOD + "leaks: {max_growth: [1\n",
        r"memwatch.yaml:5: invalid YAML",
    ),
    (
        "severity out of order",
        GOOD + "leaks:\n  severity: {minor: 90 MB}\n",
        r"memwatch.yaml:5: leaks.severity: thresholds must grow",
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_validate_refuses_a_bad_config_before_measuring(
    text: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "shopmod.py").write_text(APP)
    config = tmp_path / "memwatch.yaml"
    config.write_text(text)
    reports = tmp_path / "reports"
    code = main(["validate", "--config", str(config), "--no-db", "--report-dir", str(reports)])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert expected in err
    assert not (tmp_path / "CALLED").exists(), "the operation ran before the config was refused"
    assert not reports.exists()


def test_the_good_config_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The table's base config is fine: the errors above come from the mistakes alone."""
    (tmp_path / "shopmod.py").write_text(APP)
    config = tmp_path / "memwatch.yaml"
    config.write_text(GOOD + "    checks: [leaks]\nleaks: {iterations: 100, time_budget: 2s}\n")
    code = main(["validate", "--config", str(config), "--no-db", "--report-dir", str(tmp_path / "r")])
    assert code == 0, capsys.readouterr().out
    assert (tmp_path / "CALLED").exists()


@pytest.mark.parametrize(
    ("pyproject", "expected"),
    [
        ("[tool.memwatch.leaks]\nmax_growth = 1 kB\n", "pyproject.toml:2: invalid TOML"),
        ('[project]\nname = "x"\n[tool.memwatch.leaks\n', "pyproject.toml:3: invalid TOML"),
        (
            '[tool.memwatch.leaks]\nmax_growth = "1 kB"\nmax_growt = "2 kB"\n',
            "pyproject.toml:3: leaks.max_growt: unknown key (did you mean 'max_growth'?)",
        ),
        (
            '[[tool.memwatch.components]]\nname = "a"\noperation = "m:f"\nleaks = {max_growt = 1}\n',
            "pyproject.toml:4: components[0].leaks.max_growt: unknown key",
        ),
    ],
)
@pytest.mark.parametrize("command", ["leaks", "gc"])
def test_a_broken_pyproject_is_never_skipped(
    pyproject: str,
    expected: str,
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before, a pyproject.toml that did not parse was skipped: its budgets silently gone."""
    (tmp_path / "shopmod.py").write_text(APP)
    (tmp_path / "pyproject.toml").write_text(pyproject)
    monkeypatch.chdir(tmp_path)
    code = main([command, "shopmod:operate"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert expected in err
    assert not (tmp_path / "CALLED").exists()
