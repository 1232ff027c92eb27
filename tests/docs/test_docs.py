"""Every fenced block of README.md and docs/*.md runs, and shows what a real run prints.

The conventions are in tests/docs/README.md. In short: ``python`` blocks run (one namespace per
document, in order), ``console`` blocks run their ``$ `` commands in bash with this
environment's ``memwatch``, ``python`` and ``pytest`` first on PATH, and the output shown under
a command (or in the plain block right after a python block) must match the real one, numbers
and ``...`` elisions matched by pattern (tests/docs/matching.py). Everything runs in a temporary
folder holding a copy of ``examples/`` and ``tests/leak_corpus/``.

``MEMWATCH_DOCS_UPDATE=1 pytest tests/docs`` rewrites the shown outputs from real runs instead
of comparing them, keeping every ``...``; review the result with ``git diff``.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.docs import markdown, matching

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNER = Path(__file__).with_name("runner.py")
UPDATE = os.environ.get("MEMWATCH_DOCS_UPDATE", "") not in ("", "0")
DEFAULT_TIMEOUT = 120
DEFAULT_COLUMNS = "80"
# Blocks that cannot run here, each with its reason in the document. Keep this small: a new
# skip must be argued for (tests/docs/README.md lists them).
MAX_SKIPS = 9


@dataclass
class Check:
    """One shown output and where its real counterpart comes from."""

    block: markdown.Block  # the block whose text is (or holds) the shown output
    step: int  # index of the step in the plan
    command: int | None  # index of the command in a console step, None for a python block
    expected: list[str]
    exact: bool
    label: str


@dataclass
class Plan:
    steps: list[dict[str, Any]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    skipped: list[tuple[markdown.Block, str]] = field(default_factory=list)


# Variables that change what pytest and rich print: pytest shows the whole failure message in
# its short summary when CI or BUILD_NUMBER is set, and colour variables add escape codes.
_OUTPUT_CHANGERS = ("CI", "BUILD_NUMBER", "FORCE_COLOR", "PY_COLORS", "NO_COLOR", "CLICOLOR_FORCE")


def _env(columns: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "MEMWATCH_", "COV_", "GITHUB_"))
        and k not in ("PYTHONPATH", "COLUMNS", *_OUTPUT_CHANGERS)
    }
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.update({"COLUMNS": columns, "TERM": "dumb", "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def plan_document(path: Path, work: Path) -> Plan:
    plan = Plan()
    found = markdown.blocks(path)
    consumed: set[int] = set()
    for index, block in enumerate(found):
        if index in consumed:
            continue
        d = block.directives
        if "skip" in d:
            plan.skipped.append((block, d["skip"]))
            continue
        cwd = str(work / d.get("cwd", "."))
        timeout = int(d.get("timeout", DEFAULT_TIMEOUT))
        if "config" in d:
            # A config snippet is "run" by loading it the way memwatch loads its config files.
            name = "pyproject.toml" if block.lang == "toml" else "memwatch.yaml"
            code = (
                "import pathlib as _p, tempfile as _t\n"
                "from memwatch.config.schema import load_config as _load\n"
                f"_f = _p.Path(_t.mkdtemp()) / {name!r}\n"
                f"_f.write_text({block.text!r})\n"
                "_load(_f, search=False)\n"
            )
            plan.steps.append(
                {"kind": "python", "code": code, "cwd": cwd, "timeout": timeout, "name": block.where}
            )
        elif "file" in d:
            plan.steps.append({"kind": "file", "path": str(Path(cwd) / d["file"]), "text": block.text + "\n"})
        elif block.lang == "python":
            plan.steps.append(
                {"kind": "python", "code": block.text, "cwd": cwd, "timeout": timeout, "name": block.where}
            )
            nxt = found[index + 1] if index + 1 < len(found) else None
            if (
                nxt is not None
                and nxt.lang in markdown.OUTPUT_LANGS
                and not nxt.has_commands
                and not ({"skip", "file"} & nxt.directives.keys())
                and (not nxt.prose_before or "output" in nxt.directives)
            ):
                consumed.add(index + 1)
                plan.checks.append(
                    Check(
                        nxt,
                        len(plan.steps) - 1,
                        None,
                        nxt.text.splitlines(),
                        "exact" in nxt.directives,
                        block.where,
                    )
                )
        elif block.has_commands and block.lang in markdown.COMMAND_LANGS | markdown.OUTPUT_LANGS:
            cmds = markdown.commands(block)
            plan.steps.append(
                {
                    "kind": "shell",
                    "commands": [c.command for c in cmds],
                    "cwd": cwd,
                    "timeout": timeout,
                    "env": {"COLUMNS": d.get("columns", DEFAULT_COLUMNS)},
                }
            )
            for i, c in enumerate(cmds):
                first = c.command.splitlines()[0]
                plan.checks.append(
                    Check(block, len(plan.steps) - 1, i, c.expected, "exact" in d, f"{block.where} $ {first}")
                )
        else:
            raise AssertionError(
                f"{block.where}: a {block.lang or 'plain'} block that is not run: make it a python or console "
                "block, the output of the block above it, a file (<!-- docs: file: NAME -->) or a skip with "
                "its reason (<!-- docs: skip: REASON -->)"
            )
    return plan


def make_workdir(base: Path) -> Path:
    work = base / "work"
    shutil.copytree(ROOT / "examples", work / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")  # pytest reads its settings, as in a clone
    (work / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "__init__.py", work / "tests" / "__init__.py")
    shutil.copytree(
        ROOT / "tests" / "leak_corpus",
        work / "tests" / "leak_corpus",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return work


def run_plan(plan: Plan, work: Path) -> list[dict[str, Any]]:
    plan_file, results_file = work.parent / "plan.json", work.parent / "results.json"
    plan_file.write_text(json.dumps(plan.steps))
    total = sum(step.get("timeout", 10) for step in plan.steps) + 60
    subprocess.run(
        [sys.executable, str(RUNNER), str(plan_file), str(results_file)],
        cwd=work,
        env=_env(DEFAULT_COLUMNS),
        stdin=subprocess.DEVNULL,
        timeout=total,
        check=False,
    )
    results: list[dict[str, Any]] = json.loads(results_file.read_text()) if results_file.exists() else []
    return results


def _actual(check: Check, results: list[dict[str, Any]], work: Path) -> list[str] | None:
    if check.step >= len(results):
        return None
    result = results[check.step]
    text = result["output"] if check.command is None else (result["outputs"] + [""] * 99)[check.command]
    # The temporary folder's path changes from run to run: it is shown as "..." (an elision).
    text = text.replace(str(work.resolve()), "...").replace(str(work), "...")
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _write_back(path: Path, replacements: dict[tuple[int, int], str]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    for (start, end), new in sorted(replacements.items(), reverse=True):
        lines[start:end] = new.splitlines()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _new_block_text(block: markdown.Block, checks: list[Check], new: dict[int, list[str]]) -> str:
    """The block's content with each command's shown output replaced."""
    if checks[0].command is None:
        body = new[id(checks[0])]
    else:
        body = []
        for check, command in zip(checks, markdown.commands(block), strict=True):
            body.append("$ " + command.command)
            body.extend(new[id(check)])
    return "\n".join(block.indent + line if line else line for line in body)


@pytest.mark.integration
@pytest.mark.parametrize("doc", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_document_runs_as_shown(doc: Path, tmp_path: Path) -> None:
    work = make_workdir(tmp_path)
    plan = plan_document(doc, work)
    results = run_plan(plan, work)
    problems: list[str] = []
    for step, result in zip(plan.steps, results, strict=False):
        if result.get("error"):
            where = step.get("name") or step["commands"][0]
            problems.append(f"{doc.name}: {where} failed:\n{result['error']}")
    if len(results) < len(plan.steps):
        problems.append(f"{doc.name}: the runner stopped after {len(results)} of {len(plan.steps)} blocks")
    by_block: dict[int, list[Check]] = {}
    new: dict[int, list[str]] = {}
    for check in plan.checks:
        actual = _actual(check, results, work)
        if actual is None:
            continue
        by_block.setdefault(id(check.block), []).append(check)
        if matching.match(check.expected, actual, check.exact) is None:
            diff = "\n".join(
                difflib.unified_diff(check.expected, actual, f"shown in {doc.name}", "real run", lineterm="")
            )
            problems.append(f"{check.label}: the output differs from the document\n{diff}")
        new[id(check)] = matching.rewrite(check.expected, actual, check.exact)
    if UPDATE:
        replacements = {}
        for checks in by_block.values():
            block = checks[0].block
            if checks[0].command is None or len(checks) == len(markdown.commands(block)):
                replacements[(block.content_start, block.content_end)] = _new_block_text(block, checks, new)
        _write_back(doc, replacements)
        problems = [p for p in problems if "the output differs" not in p]
    assert not problems, "\n\n".join(problems)


def test_skipped_blocks_are_few_and_give_reasons() -> None:
    skipped = []
    for doc in DOCS:
        for block in markdown.blocks(doc):
            if "skip" in block.directives:
                skipped.append(f"{block.where}: {block.directives['skip']}")
    assert len(skipped) <= MAX_SKIPS, "too many docs blocks are skipped:\n" + "\n".join(skipped)
