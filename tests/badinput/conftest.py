"""The bad-input battery: run ``memwatch.cli.main`` in-process and look at what a user sees."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from memwatch import cli

TARGETS = textwrap.dedent(
    """
    import sys

    def ok():
        return [0] * 10

    def boom():
        raise RuntimeError("boom")

    def _parse(text):
        return int(text)

    def boom_chained():
        try:
            _parse("not a number")
        except ValueError as exc:
            raise RuntimeError("chained boom") from exc

    async def boom_async():
        boom_chained()

    def exits():
        sys.exit(7)

    def needs(a, b):
        return a

    def factory_raises():
        raise RuntimeError("factory boom")

    def cycles():
        for _ in range(2000):
            a = []
            a.append(a)

    NOT_CALLABLE = 5
    """
)

LONG = "x" * 300  # one path component over the 255 bytes a file system takes


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def line(self) -> str:
        """The error line (the last line on stderr)."""
        lines = self.err.strip().splitlines()
        return lines[-1] if lines else ""

    def assert_one_line(self, code: int, *words: str) -> None:
        """Exit ``code``, no traceback, and an error line naming each of ``words``."""
        assert "Traceback" not in self.err, self.err
        assert "internal error" not in self.err, self.err
        assert self.code == code, (self.code, self.err)
        assert self.line.startswith("memwatch: error: "), self.err
        for word in words:
            assert word in self.line, (word, self.line)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean folder (no config file) holding the targets' module ``bi_targets``."""
    (tmp_path / "bi_targets.py").write_text(TARGETS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("MEMWATCH_DB", raising=False)
    return tmp_path


@pytest.fixture
def mw(workdir: Path, capsys: pytest.CaptureFixture[str]):
    """``mw("leaks", "bi_targets:ok")`` -> :class:`Outcome` of ``memwatch.cli.main``."""

    def run(*argv: str) -> Outcome:
        capsys.readouterr()
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run
