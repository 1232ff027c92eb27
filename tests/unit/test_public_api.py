"""The public surface: `__all__` matches what the package exposes, and the import stays light."""

from __future__ import annotations

import json
import subprocess
import sys

import memwatch
from memwatch import errors


def test_all_names_resolve() -> None:
    for name in memwatch.__all__:
        assert getattr(memwatch, name) is not None, name


def test_all_is_sorted_and_matches_lazy_table() -> None:
    lazy = set(memwatch._LAZY)
    assert lazy <= set(memwatch.__all__)
    assert sorted(memwatch.__all__) == list(memwatch.__all__)


def test_errors_read_as_public_names() -> None:
    assert errors.LeakDetected.__module__ == "memwatch"
    assert issubclass(errors.LeakDetected, errors.CheckFailed)
    assert errors.CheckFailed.exit_code == 1
    assert errors.ConfigError.exit_code == 2
    assert errors.MemwatchError.exit_code == 3
    assert isinstance(errors.ConfigError("x"), ValueError)


def test_import_memwatch_stays_light() -> None:
    code = "import sys, json, memwatch; print(json.dumps(sorted(m for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded = set(json.loads(out.stdout))
    for heavy in (
        "pytest",
        "sqlalchemy",
        "matplotlib",
        "jinja2",
        "numpy",
        "scipy",
        "pydantic",
        "psutil",
        "click",
        "rich",
    ):
        assert heavy not in loaded, f"import memwatch pulled in {heavy}"
