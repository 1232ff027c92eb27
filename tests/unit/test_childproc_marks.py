from __future__ import annotations

from pathlib import Path

import pytest

from memwatch.runs import command as childproc
from memwatch.runs.command import PHASE_ENV, PhaseFileReader, parse_phase_line


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("start load", ("start", "load", None)),
        ("end load @12.5\n", ("end", "load", 12.5)),
        ("start two words @1", ("start", "two words", 1.0)),
        ("start name @notatime", ("start", "name @notatime", None)),
        ("begin load", None),
        ("start", None),
        ("", None),
        ("end  @3", ("end", "@3", None)),  # a stamp needs a name before it
    ],
)
def test_parse_phase_line(line: str, expected: object) -> None:
    assert parse_phase_line(line) == expected


def test_reader_returns_only_new_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "phases"
    path.write_text("start a @1\nend a @2\nstart b")
    reader = PhaseFileReader(str(path))
    assert reader.poll() == [("start", "a", 1.0), ("end", "a", 2.0)]
    assert reader.poll() == []
    with path.open("a") as handle:
        handle.write(" @3\ngarbage\n")
    assert reader.poll() == [("start", "b", 3.0)]
    assert reader.ignored == 1


def test_reader_of_a_missing_file_reads_nothing(tmp_path: Path) -> None:
    assert PhaseFileReader(str(tmp_path / "none")).poll() == []


def test_helpers_write_marks_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PHASE_ENV, raising=False)
    with childproc.phase("quiet"):
        pass  # no variable: a no-op, nothing to write
    path = tmp_path / "marks"
    monkeypatch.setenv(PHASE_ENV, str(path))
    with pytest.raises(RuntimeError), childproc.phase("load"):
        raise RuntimeError("the end mark is still written")
    marks = PhaseFileReader(str(path)).poll()
    assert [(v, n) for v, n, _ in marks] == [("start", "load"), ("end", "load")]
    assert marks[0][2] is not None
    assert marks[1][2] is not None
    assert marks[0][2] <= marks[1][2]
    with pytest.raises(ValueError, match="invalid phase name"):
        childproc.mark_phase_start("two\nlines")


def test_importing_the_helpers_stays_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, memwatch.runs.command; "
        "print(sorted(m for m in ('numpy', 'psutil', 'matplotlib', 'click') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
