"""One config, four doors, one set of leak options.

The same memwatch.yaml is fed to the Python API (``detect_leaks``), the CLI (``memwatch
leaks``), the pytest plugin (``@pytest.mark.no_leaks``) and ``memwatch validate``; each
door's options are captured where the engine receives them
(:func:`memwatch.leaks.runner.resolve`) and must be identical.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from memwatch.cli import main
from memwatch.config.options import LeakOptions, leak_options
from memwatch.config.schema import validate_config
from memwatch.leaks import runner
from memwatch.leaks.runner import detect_leaks

MODULE = """
def operate():
    scratch = [bytes(64) for _ in range(4)]
    del scratch
"""

FULL = """\
leaks:
  max_growth: 64 KiB
  iterations: 200
  warmup: 20
  time_budget: 3s
  reset_caches: false
  attribute: false
  signals: [py_blocks, native_heap, fds]
  severity: {minor: 1 MB, major: 2 MB, critical: 3 MB}
"""
PARTIAL = """\
leaks:
  max_growth: 2 kB
  iterations: 150
  severity: {minor: 100 kB}
"""
EMPTY = "level: quick\n"

CONFIGS = {"full": FULL, "partial": PARTIAL, "defaults": EMPTY}
COMPONENT = """
components:
  - name: door
    operation: doormod:operate
    checks: [leaks]
"""


def _expected(text: str) -> LeakOptions:
    import yaml

    return leak_options(config=validate_config(yaml.safe_load(text) or {}))


def _api(folder: Path, request: pytest.FixtureRequest) -> None:
    sys.path.insert(0, str(folder))
    try:
        import doormod  # type: ignore[import-not-found]

        detect_leaks(doormod.operate)
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("doormod", None)


def _cli(folder: Path, request: pytest.FixtureRequest) -> None:
    try:
        assert main(["leaks", "doormod:operate"]) in (0, 1)
    finally:
        sys.modules.pop("doormod", None)


def _pytest(folder: Path, request: pytest.FixtureRequest) -> None:
    pytester: pytest.Pytester = request.getfixturevalue("pytester")
    for name in ("memwatch.yaml", "doormod.py"):
        (pytester.path / name).write_text((folder / name).read_text())
    pytester.makepyfile(
        test_door="import pytest\n\n@pytest.mark.no_leaks\ndef test_door():\n    sum(range(10))\n"
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1)


def _validate(folder: Path, request: pytest.FixtureRequest) -> None:
    config = folder / "memwatch.yaml"
    config.write_text(config.read_text() + COMPONENT)
    try:
        code = main(["validate", "--config", str(config), "--no-db", "--report-dir", str(folder / "r")])
    finally:
        sys.modules.pop("doormod", None)
    assert code in (0, 1)


DOORS: dict[str, Callable[[Path, pytest.FixtureRequest], None]] = {
    "api": _api,
    "cli": _cli,
    "pytest": _pytest,
    "validate": _validate,
}


@pytest.mark.parametrize("door", list(DOORS))
@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_door_hands_the_engine_the_same_options(
    name: str,
    door: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "memwatch.yaml").write_text(CONFIGS[name])
    (tmp_path / "doormod.py").write_text(MODULE)
    monkeypatch.chdir(tmp_path)
    seen: list[LeakOptions] = []
    real = runner.resolve

    def spy(explicit: dict[str, object], options: LeakOptions | None) -> LeakOptions:
        resolved = real(explicit, options)
        seen.append(resolved)
        return resolved

    monkeypatch.setattr(runner, "resolve", spy)
    DOORS[door](tmp_path, request)
    capsys.readouterr()
    assert seen, f"the {door} door never reached the engine"
    assert seen[-1] == _expected(CONFIGS[name])


def test_the_full_config_is_not_the_defaults() -> None:
    """The table above would prove nothing if every config resolved to the defaults."""
    full, partial, defaults = (_expected(CONFIGS[n]) for n in ("full", "partial", "defaults"))
    assert full.max_growth == 65536
    assert full.signals == ("py_blocks", "native_heap", "fds")
    assert full.severity == {"minor": 1_000_000, "major": 2_000_000, "critical": 3_000_000}
    assert partial.severity == {"minor": 100_000, "major": 20_000_000, "critical": 50_000_000}
    assert defaults.max_growth == 1_000_000
    assert defaults.time_budget == 10.0
    assert full != partial
    assert defaults not in (partial, full)
