"""Bad command lines: exit code 2 and one line naming the problem, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from memwatch.cli import main

LONG = "a" * 300  # one path component over the 255 bytes a Linux file system allows


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "okmod.py").write_text("def f():\n    pass\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("MEMWATCH_DB", raising=False)
    return "okmod:f"


CASES = [
    (["leaks", "{t}", "--max-growth", "1e400GB"], "invalid size '1e400GB': too large"),
    (["stress", "--limit", "1e400GB"], "invalid size '1e400GB': too large"),
    (["compare", "--min-change", "1e400GB", "a.json", "b.json"], "invalid size '1e400GB': too large"),
    (["gc", "{t}", "--thresholds", "99999999999999999999"], "GC threshold 99999999999999999999 is too large"),
    (["leaks", "{t}", "-o", f"{LONG}/report.json"], "File name too long"),
    (["history", "--db", f"{LONG}/history.db"], "File name too long"),
    (["validate", "--config", f"{LONG}/memwatch.yaml"], "File name too long"),
    (["history", "--db", ""], "--db is empty"),
    (["leaks", "nope_module:f"], "cannot import module 'nope_module'"),
]


@pytest.mark.parametrize(("argv", "needle"), CASES, ids=[" ".join(a[:2]) + " " + n[:20] for a, n in CASES])
def test_bad_command_line_is_one_line_and_exit_2(
    argv: list[str], needle: str, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([arg.replace("{t}", target) for arg in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("memwatch: error: ")
    assert needle in lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'leaks:\n  max_growth: "\xff\xfe"\n', "cannot read the config file"),
        (("a: " + "[" * 5000 + "]" * 5000 + "\n").encode(), "nested too deeply"),
        (b"a: &x [*x]\n", "nested too deeply, or a YAML alias refers to itself"),
        (b"leaks:\n  max_growth: 1e400GB\n", "too large"),
    ],
    ids=["not-utf8", "5000-deep", "self-referencing", "overflowing-size"],
)
def test_bad_config_files_are_one_line(
    content: bytes, needle: str, target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "memwatch.yaml").write_bytes(content)
    code = main(["leaks", target])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert needle in err
