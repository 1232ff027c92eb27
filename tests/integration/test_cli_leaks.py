"""``memwatch leaks``: exit codes (0 pass, 1 leak, 2 usage, 3 crash, 4 inconclusive), text and
JSON output, bad targets, --isolate."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator

import pytest

from memwatch.cli import main
from memwatch.model.base import load_document, read_document
from memwatch.model.leaks import LeakReport
from tests.leak_corpus.cases import reset

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    yield
    reset()


def test_leak_over_budget_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["leaks", "tests.leak_corpus.leaky:module_dict", "--max-growth", "1 KiB"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("LEAK (")
    assert "over the budget of 1 KiB" in out.splitlines()[0]
    assert "module tests.leak_corpus.leaky._STORE -> dict[" in out


def test_growth_within_budget_passes_and_never_says_leak(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["leaks", "tests.leak_corpus.leaky:small_object", "--no-attribution", "--max-growth", "1 MB"])
    out = capsys.readouterr().out
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("tests.leak_corpus.leaky:small_object grows ")
    assert " per call, " in first
    assert first.endswith("per 1,000 calls: within the budget of 1 MB (python memory)")
    assert "LEAK" not in out


def test_inconclusive_exits_4(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "slowop.py").write_text("import time\n\ndef slow():\n    time.sleep(0.05)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["leaks", "slowop:slow", "--time-budget", "10ms"]) == 4
    out = capsys.readouterr().out
    assert out.startswith("inconclusive for slowop:slow: one call took ")
    assert "LEAK" not in out


def test_clean_exits_0_and_json_is_the_model(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    saved = tmp_path / "report.json"
    code = main(["leaks", "tests.leak_corpus.clean:bounded_lru", "--json", "-o", str(saved)])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    report = load_document(doc, expected=LeakReport)
    assert report.verdict == "clean"
    assert read_document(saved, expected=LeakReport) == report


def test_iterations_and_warmup(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["leaks", "tests.leak_corpus.clean:pure", "--iterations", "400", "--warmup", "50", "--json"])
    report = load_document(json.loads(capsys.readouterr().out), expected=LeakReport)
    assert code == 0
    assert report.iterations <= 400
    assert report.warmup_iterations == 50


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope.module:f"], "cannot import module 'nope.module'"),
        (["tests.leak_corpus.clean"], "expected module:callable"),
        (["tests.leak_corpus.clean:missing"], "has no attribute 'missing'"),
        (["tests.leak_corpus.leaky:_BUS"], "is not callable (it is an EventBus)"),
        (["tests.leak_corpus.leaky:_parse"], "cannot be called without arguments"),
        (["tests.leak_corpus.clean:pure", "--iterations", "-3"], "--iterations"),
        (["tests.leak_corpus.clean:pure", "--max-growth", "lots"], "invalid size 'lots'"),
        (["tests.leak_corpus.clean:pure", "--expect", "NoSuchError"], "is not an exception class"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["leaks", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("memwatch: error:")
    assert message in err


def test_unexpected_exception_exits_3_with_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["leaks", "tests.leak_corpus.clean:error_path"]) == 3
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith("memwatch: error: tests.leak_corpus.clean:error_path raised ValueError")
    )


def test_expected_exception_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["leaks", "tests.leak_corpus.clean:error_path", "--expect", "ValueError"]) == 0
    assert capsys.readouterr().out.startswith("no leak in")


def test_isolate_reports_like_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["leaks", "tests.leak_corpus.native:malloc_leak", "--isolate", "--json", "--max-growth", "100 kB"]
    )
    report = load_document(json.loads(capsys.readouterr().out), expected=LeakReport)
    assert code == 1
    assert report.kind == "native"
    assert (report.max_growth, report.max_growth_text) == (100_000, "100 kB")  # as typed, through the child


def test_isolate_survives_a_crash(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "crashy.py").write_text(
        textwrap.dedent("""
        import ctypes

        def crash():
            ctypes.string_at(0)  # reads address 0: SIGSEGV
    """)
    )
    monkeypatch.chdir(tmp_path)
    assert main(["leaks", "crashy:crash", "--isolate"]) == 3
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        "memwatch: error: the operation crashed the child process (SIGSEGV); memwatch itself is unaffected"
    )


def test_isolate_bad_target_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["leaks", "nope.module:f", "--isolate"]) == 2
    assert "cannot import module 'nope.module'" in capsys.readouterr().err


def test_defaults_come_from_the_config_file(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "memwatch.yaml").write_text('leaks:\n  max_growth: "1 kB"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["leaks", "tests.leak_corpus.leaky:small_object", "--no-attribution"]) == 1
    assert "over the budget of 1 kB" in capsys.readouterr().out
    (tmp_path / "memwatch.yaml").write_text('leaks:\n  max_growth: "12 XB"\n')
    assert main(["leaks", "tests.leak_corpus.clean:pure"]) == 2
    assert "leaks.max_growth" in capsys.readouterr().err


def test_run_isolated_api() -> None:
    from memwatch.errors import UsageError
    from memwatch.leaks.isolate import run_isolated

    report = run_isolated(
        "tests.leak_corpus.clean:error_path",
        iterations=400,
        max_growth="1 MB",
        expected_exceptions=(ValueError,),
    )
    assert report.verdict == "clean"
    assert report.iterations <= 400
    with pytest.raises(UsageError, match="unknown option"):
        run_isolated("tests.leak_corpus.clean:pure", colour="red")
