"""The public surface: `__all__` is the list in docs/api.md, the docs import only public modules,
type checkers see the real names, and the import stays light."""

from __future__ import annotations

import ast
import gc
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import memwatch
from memwatch import errors

ROOT = Path(__file__).resolve().parents[2]
API_DOC = ROOT / "docs" / "api.md"


def _section(title: str) -> str:
    """The text of one ``## title`` section of docs/api.md."""
    text = API_DOC.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/api.md has no section '## {title}'"
    return match.group(1)


def _listed(title: str) -> list[str]:
    """The names a section lists, one bullet each: ``- `name`: what it is``."""
    return re.findall(r"^- `([\w.]+)`", _section(title), re.M)


def _doc_imports() -> list[tuple[str, str, list[str]]]:
    """(file, module, names) for every ``from memwatch… import …`` and ``import memwatch…`` in the docs."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"\bfrom (memwatch[\w.]*) import (\([^)]*\)|[^\n#;\"]*)", text):
            names = [n.strip().split(" as ")[0] for n in match.group(2).strip("() \\").split(",")]
            found.append((path.name, match.group(1), [n for n in names if n]))
        for match in re.finditer(r"^\s*import (memwatch[\w.]*)", text, re.M):
            found.append((path.name, match.group(1), []))
    return found


def test_all_is_the_documented_list() -> None:
    documented = _listed("`import memwatch`")
    assert len(documented) == len(set(documented)), "docs/api.md lists a name twice"
    assert sorted(documented) == list(memwatch.__all__)


def test_all_names_resolve() -> None:
    for name in memwatch.__all__:
        assert getattr(memwatch, name) is not None, name


def test_all_is_sorted_and_matches_lazy_table() -> None:
    lazy = set(memwatch._LAZY)
    assert lazy <= set(memwatch.__all__)
    assert sorted(memwatch.__all__) == list(memwatch.__all__)


def test_type_checkers_see_every_lazy_name_from_its_module() -> None:
    """The TYPE_CHECKING imports in memwatch/__init__.py name exactly the lazy table."""
    tree = ast.parse(Path(memwatch.__file__).read_text(encoding="utf-8"))
    seen: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), ast.dump(stmt)
                module = stmt.module or ""
                seen.update({alias.name: module for alias in stmt.names})
    assert seen == memwatch._LAZY


def test_docs_import_only_public_names() -> None:
    public = {"memwatch", *_listed("Public modules")}
    imports = _doc_imports()
    assert len(imports) > 20, "the docs' imports were not found: has the pattern changed?"
    for where, module, names in imports:
        submodules = {f"{module}.{name}" for name in names} & public
        assert module in public or (names and len(submodules) == len(names)), (
            f"{where}: 'from {module} import {', '.join(names)}' is not a public module (docs/api.md)"
        )
        loaded = importlib.import_module(module)
        for name in names:
            assert hasattr(loaded, name), f"{where}: {module} has no {name}"
            if module in public and module != "memwatch":
                assert name in getattr(loaded, "__all__", ()) or f"{module}.{name}" in public, (
                    f"{where}: {name} is not in {module}.__all__"
                )


def test_documented_modules_exist() -> None:
    for module in _listed("Public modules"):
        assert importlib.import_module(module).__all__, module


def test_mypy_sees_real_types_not_any(tmp_path: Path) -> None:
    """``reveal_type(memwatch.detect_leaks)`` is its signature, not Any (the lazy loader hides nothing)."""
    api = pytest.importorskip("mypy.api", reason="mypy is a test dependency")
    names = sorted(memwatch._LAZY)
    snippet = tmp_path / "snippet.py"
    snippet.write_text(
        "import memwatch\n" + "".join(f"reveal_type(memwatch.{name})\n" for name in names),
        encoding="utf-8",
    )
    thresholds = gc.get_threshold()  # mypy raises the collector's thresholds for its own run
    try:
        stdout, stderr, status = api.run(
            [
                "--config-file",
                str(ROOT / "pyproject.toml"),
                "--cache-dir",
                str(ROOT / ".mypy_cache"),
                "--no-error-summary",
                str(snippet),
            ]
        )
    finally:
        gc.set_threshold(*thresholds)
    assert status == 0, stdout + stderr
    revealed = re.findall(r"snippet\.py:(\d+): note: Revealed type is \"(.*)\"", stdout)
    assert len(revealed) == len(names), stdout
    by_name = {names[int(line) - 2]: kind for line, kind in revealed}
    for name, kind in by_name.items():
        assert kind != "Any", f"mypy sees memwatch.{name} as Any"
    assert by_name["detect_leaks"].endswith("-> memwatch.model.leaks.LeakReport")
    assert by_name["MemoryGuard"].startswith("def (")


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
