"""Document 000's config/memory_validation.yaml: read as written, or converted with its mapping."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from memwatch.cli import cli, main
from memwatch.config.schema import load_config
from memwatch.errors import ConfigError
from memwatch.suite.spec import suite_spec

DOCUMENT = """\
validation_levels:
  quick:
    leak_detection:
      iterations: 50
      components: ["ExpertManager", "RustModules"]
    regression_testing:
      enabled: true
    stress_testing:
      enabled: false
    gc_performance:
      iterations: 100
thresholds:
  memory_leak:
    critical_mb: 50.0
    major_mb: 20.0
    minor_mb: 5.0
  performance_regression:
    critical_percent: 50.0
    major_percent: 30.0
    minor_percent: 15.0
"""
COMPONENTS = """\
components:
  - {name: ExpertManager, operation: "json:dumps"}
  - {name: RustModules, operation: "json:loads"}
  - {name: Reports, operation: "json:dumps"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "memory_validation.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_document_config_is_read_as_written(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, DOCUMENT + COMPONENTS))
    assert (config.leaks.severity.minor, config.leaks.severity.major, config.leaks.severity.critical) == (
        5_000_000,
        20_000_000,
        50_000_000,
    )
    assert (config.regression.severity.minor, config.regression.severity.critical) == (15.0, 50.0)
    assert config.checks.leaks.iterations == {"quick": 50}
    assert config.checks.gc.iterations == {"quick": 100}
    spec = suite_spec(config, {"leaks", "regression", "gc", "stress", "bench"})
    quick = [(c.name, check.name) for c, check in spec.plan("quick")]
    # leaks on the two listed components only; regression and gc on every one; no stress
    assert ("ExpertManager", "leaks") in quick
    assert ("RustModules", "leaks") in quick
    assert ("Reports", "leaks") not in quick
    assert ("Reports", "regression") in quick
    assert ("Reports", "gc") in quick
    assert not [pair for pair in quick if pair[1] == "stress"]
    # a level the file does not name keeps memwatch's defaults (leaks on every component)
    assert ("Reports", "leaks") in [(c.name, k.name) for c, k in spec.plan("comprehensive")]


def test_a_listed_component_must_be_defined(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, DOCUMENT))
    with pytest.raises(ConfigError, match="unknown component 'ExpertManager'; define it under components:"):
        suite_spec(config, {"leaks", "regression", "gc", "stress", "bench"})


def test_convert_prints_the_mapping_and_writes_valid_memwatch_yaml(tmp_path: Path) -> None:
    source = write(tmp_path, DOCUMENT)
    out = tmp_path / "memwatch.yaml"
    result = CliRunner().invoke(cli, ["config", "convert", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "thresholds.memory_leak.major_mb: 20" in result.output
    assert "leaks.severity.major: 20 MB" in result.output
    assert "validation_levels.quick.stress_testing.enabled: false" in result.output
    assert "check stress does not run at quick" in result.output
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data["checks"]["leaks"]["components"] == {"quick": ["ExpertManager", "RustModules"]}
    assert data["regression"]["severity"] == {"critical": 50.0, "major": 30.0, "minor": 15.0}
    (tmp_path / "more.yaml").write_text(out.read_text(encoding="utf-8") + COMPONENTS, encoding="utf-8")
    assert load_config(tmp_path / "more.yaml").checks.leaks.iterations == {"quick": 50}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("validation_levels:\n  weekly: {}\n", "validation_levels.weekly: unknown level"),
        ("validation_levels:\n  quick:\n    leak_hunting: {}\n", "leak_hunting: unknown section"),
        (
            "validation_levels:\n  quick:\n    stress_testing: {iterations: 3}\n",
            "stress_testing.iterations: no memwatch equivalent",
        ),
        ("thresholds:\n  memory_leak:\n    huge_mb: 9\n", "thresholds.memory_leak.huge_mb: unknown key"),
        ("thresholds:\n  cpu: {max: 9}\n", "thresholds.cpu: no memwatch equivalent"),
    ],
)
def test_what_has_no_equivalent_is_one_line_exit_2(
    tmp_path: Path, text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "convert", str(write(tmp_path, text))]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_a_memwatch_file_is_not_converted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "convert", str(write(tmp_path, "level: quick\n"))]) == 2
    assert "not document 000's format" in capsys.readouterr().err
