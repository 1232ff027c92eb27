"""``memwatch lines`` and ``python -m memwatch.lines`` on real scripts, and their bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

from memwatch.cli import main

pytestmark = pytest.mark.integration

SCRIPT = textwrap.dedent("""
    import sys

    def build(n):
        rows = [bytearray(1024) for _ in range(n)]
        blob = bytearray(24 * 2**20)
        del blob
        return rows

    class Parser:
        def parse(self):
            return bytearray(6 * 2**20)

    if __name__ == "__main__":
        kept = build(int(sys.argv[1]))
        Parser().parse()
        print("done", len(kept))
""")


def _script(tmp_path: Path, text: str = SCRIPT, name: str = "job.py") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_lines_prints_the_memory_profiler_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _script(tmp_path)
    out_json, out_html = tmp_path / "p.json", tmp_path / "p.html"
    code = main(["lines", "-f", "build", "--json", str(out_json), "--html", str(out_html), str(path), "2000"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "done 2000" in captured.out
    assert "Line #" in captured.out
    assert "Line Contents" in captured.out
    blob_line = next(line for line in captured.out.splitlines() if "blob = bytearray" in line)
    assert "+24.0 MiB" in blob_line
    assert " 24.0 MiB" in blob_line
    assert "Parser.parse" not in captured.out  # only the chosen function
    data = json.loads(out_json.read_text())
    assert data["kind"] == "line_profile"
    rows = {r["lineno"]: r for r in data["data"]["functions"][0]["lines"]}
    assert rows[5]["hits"] == 1
    assert rows[5]["kept"] >= 2000 * 1024
    page = out_html.read_text()
    assert "<table" in page
    assert "blob = bytearray" in page
    assert "<script" not in page
    assert not tracemalloc.is_tracing()


def test_qualified_method_name_and_sort(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _script(tmp_path)
    assert main(["lines", "-f", "Parser.parse", "--sort", "peak", str(path), "10"]) == 0
    out = capsys.readouterr().out
    assert "Function: Parser.parse" in out
    assert "+6.0 MiB" in out


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        (None, ["missing.py"], "does not exist"),
        ("def broken(:\n    pass\n", ["bad.py"], "cannot compile"),
        (SCRIPT, ["-f", "nope", "job.py"], "function 'nope' is not defined in the script"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | None, args: list[str], message: str
) -> None:
    if text is not None:
        _script(tmp_path, text, args[-1])
    args = [*args[:-1], str(tmp_path / args[-1])]
    assert main(["lines", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_sys_exit_keeps_the_profile_and_the_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _script(
        tmp_path, "import sys\n\ndef work():\n    x = bytearray(3 * 2**20)\n    sys.exit(3)\n\nwork()\n"
    )
    assert main(["lines", str(path)]) == 3
    out = capsys.readouterr().out
    assert "+3.0 MiB" in out


def test_a_failing_script_gives_exit_1_and_a_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _script(
        tmp_path, "def work():\n    x = bytearray(2**20)\n    raise ValueError('boom')\n\nwork()\n"
    )
    assert main(["lines", str(path)]) == 1
    captured = capsys.readouterr()
    assert "ValueError: boom" in captured.err
    assert "Function: work" in captured.out


def test_fork_in_the_script_reports_once(tmp_path: Path) -> None:
    text = textwrap.dedent("""
        import os

        def work():
            block = bytearray(5 * 2**20)
            pid = os.fork()
            if pid == 0:
                more = bytearray(2**20)
                os._exit(0)
            os.waitpid(pid, 0)
            return block

        work()
    """)
    path = _script(tmp_path, text)
    done = subprocess.run(
        [sys.executable, "-m", "memwatch.lines", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Function: work") == 1
    assert "+5.0 MiB" in done.stdout


def test_profile_decorator_prints_at_exit(tmp_path: Path) -> None:
    text = textwrap.dedent("""
        import memwatch

        @memwatch.profile
        def grow():
            data = bytearray(7 * 2**20)
            return len(data)

        grow(); grow()
    """)
    path = _script(tmp_path, text)
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Function: grow (line 4), 2 calls" in done.stdout
    row = next(line for line in done.stdout.splitlines() if "data = bytearray" in line)
    assert "+14.0 MiB" in row
    assert "7.0 MiB" in row
