from __future__ import annotations

from pathlib import Path

import pytest

from memwatch.config.schema import Config, find_config, load_config, validate_config
from memwatch.errors import ConfigError


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config()
    assert config == Config()
    assert config.leaks.max_growth == 1_000_000
    assert config.regression.severity.minor == 15.0
    assert config.leaks.severity.critical == 50_000_000


def test_yaml_sizes_percentages_and_durations(tmp_path: Path) -> None:
    path = tmp_path / "memwatch.yaml"
    path.write_text(
        "leaks:\n  max_growth: 2 MiB\n  time_budget: 500ms\n"
        "regression:\n  severity: {minor: '10%', major: 20, critical: 40%}\n  abs_floor: 64 KiB\n"
        "level: nightly\n"
    )
    config = load_config(path)
    assert config.leaks.max_growth == 2 * 2**20
    assert config.leaks.time_budget == pytest.approx(0.5)
    assert (
        config.regression.severity.minor,
        config.regression.severity.major,
        config.regression.severity.critical,
    ) == (10.0, 20.0, 40.0)
    assert config.regression.abs_floor == 65536
    assert config.level == "nightly"
    assert config.source == str(path)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("leaks:\n  iterations: 5\n  max_growth: 12 XB\n", r":3: leaks\.max_growth: invalid size '12 XB'"),
        ("leaks:\n  max_grwth: 1 MB\n", r":2: leaks\.max_grwth: unknown key"),
        ("leaks:\n  iterations: -4\n", r":2: leaks\.iterations: .*greater than 0"),
        ("level: weekly\n", r":1: level: .*quick.*comprehensive.*nightly"),
        ("leaks: [1, 2\n", r"invalid YAML"),
        ("- just\n- a list\n", r"top level must be a mapping"),
    ],
)
def test_bad_yaml_names_file_line_and_key(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "memwatch.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_pyproject_tool_memwatch_is_found_upwards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.memwatch]\nlevel = "comprehensive"\n[tool.memwatch.leaks]\nmax_growth = "4 KiB"\n'
    )
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert find_config() == tmp_path / "pyproject.toml"
    config = load_config()
    assert config.level == "comprehensive"
    assert config.leaks.max_growth == 4096


def test_pyproject_without_section_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    monkeypatch.chdir(tmp_path)
    assert find_config(tmp_path) is None


def test_missing_explicit_file() -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config("/nonexistent/memwatch.yaml")


def test_invalid_toml(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.memwatch\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(path)


def test_validate_config_from_a_dict() -> None:
    config = validate_config({"gc": {"pause_p95_ms": 50}})
    assert config.gc.pause_p95_ms == 50.0
    with pytest.raises(ConfigError, match=r"gc\.pause_p95_ms"):
        validate_config({"gc": {"pause_p95_ms": -1}})
