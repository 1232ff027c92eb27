"""``memwatch gc module:callable``: real runs, JSON, saved reports and every bad input."""

from __future__ import annotations

import gc
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from memwatch.cli import main
from memwatch.model.base import load_document, read_document
from memwatch.model.gc import GCReport

pytestmark = pytest.mark.integration

TARGET_CODE = """
import asyncio

class Node:
    def __init__(self):
        self.other = None

def pairs():
    for _ in range(100):
        a, b = Node(), Node()
        a.other, b.other = b, a

async def apairs():
    pairs()
    await asyncio.sleep(0)

def boom():
    raise ValueError("no luck")

NOT_CALLABLE = 3
"""


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A uniquely named target module importable from the current folder."""
    name = f"gc_target_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(TARGET_CODE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    collect = gc.collect
    yield name
    assert gc.collect is collect


def test_text_report(module: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gc", f"{module}:pairs", "--iterations", "2000"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{module}:pairs: ")
    assert "automatic" in out
    assert "gen0: " in out
    assert "collections per operation (2,000 operations)" in out
    assert "latency: " in out
    assert "advice:" in out
    assert "PASS pause p95" in out


def test_json_document_round_trips(module: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gc", f"{module}:pairs", "-n", "300", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "gc_report"
    report = load_document(doc, expected=GCReport)
    assert report.operations == 300
    assert report.latency is not None
    assert report.latency.calls == 300
    assert report.collected > 0


def test_async_target_and_saved_report(
    module: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "gc.json"
    assert main(["gc", f"{module}:apairs", "-n", "300", "-o", str(out_file)]) == 0
    report = read_document(out_file, expected=GCReport)
    assert report.component == f"{module}:apairs"
    assert report.collections > 0
    assert "advice:" in capsys.readouterr().out


def test_reclaim_section(module: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gc", f"{module}:pairs", "-n", "500", "--reclaim"]) == 0
    out = capsys.readouterr().out
    assert "memory reclamation after a full collection:" in out
    assert "py_blocks" in out


def test_failed_pause_check_exits_1(module: str, capsys: pytest.CaptureFixture[str]) -> None:
    # every real collection takes longer than 0 ms, so a 0 ms limit must fail
    assert main(["gc", f"{module}:pairs", "-n", "500", "--max-pause-p95", "0"]) == 1
    out = capsys.readouterr().out
    assert "FAIL pause p95" in out
    assert "(above the limit)" in out


def test_operation_that_raises_exits_3(module: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gc", f"{module}:boom"]) == 3
    err = capsys.readouterr().err.strip()
    # the target's own traceback (none of memwatch's frames), then one line
    *traceback, line = err.splitlines()
    assert (
        line == f"memwatch: error: {module}:boom: the operation raised ValueError: no luck (call 1 of 1000)"
    )
    assert traceback[0] == "Traceback (most recent call last):"
    assert traceback[-1] == "ValueError: no luck"
    assert "in boom" in err
    assert "src/memwatch" not in err


@pytest.mark.parametrize(
    ("target", "args", "message"),
    [
        ("{m}", [], "invalid target '{m}': expected module:callable, e.g. app.handlers:handle_request"),
        (":pairs", [], "invalid target ':pairs': expected module:callable, e.g. app.handlers:handle_request"),
        (
            "no_such_module_xyz:f",
            [],
            "cannot import module 'no_such_module_xyz' for target "
            "'no_such_module_xyz:f': No module named 'no_such_module_xyz'",
        ),
        ("{m}:nope", [], "target '{m}:nope': module '{m}' has no attribute 'nope'"),
        ("{m}:NOT_CALLABLE", [], "target '{m}:NOT_CALLABLE' is not callable (it is an int)"),
        ("{m}:pairs", ["-n", "0"], "iterations must be a positive integer, got 0"),
        ("{m}:pairs", ["--max-pause-p95", "-1"], "GC threshold max_pause_p95_ms=-1.0 must not be negative"),
        (
            "{m}:pairs",
            ["--thresholds", "1,x"],
            "--thresholds '1,x': expected 1 to 3 comma-separated integers such as 7000,10,10",
        ),
        (
            "{m}:pairs",
            ["--thresholds", "-3"],
            "GC threshold -3 must be a non-negative integer (0 disables that level)",
        ),
        (
            "{m}:pairs",
            ["-o", "/no/such/folder/gc.json"],
            "cannot write /no/such/folder/gc.json: folder /no/such/folder does not exist",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    module: str, capsys: pytest.CaptureFixture[str], target: str, args: list[str], message: str
) -> None:
    assert main(["gc", target.format(m=module), *args]) == 2
    err = capsys.readouterr().err
    assert err == f"memwatch: error: {message.format(m=module)}\n"


def test_bad_option_value_exits_2(module: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gc", f"{module}:pairs", "--iterations", "many"]) == 2
    assert "'many' is not a valid integer" in capsys.readouterr().err


def test_thresholds_and_freeze_apply_during_the_run_and_are_restored(
    module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = gc.get_threshold()
    args = ["-n", "300", "--thresholds", "2800,10,10", "--freeze", "--json"]
    assert main(["gc", f"{module}:pairs", *args]) == 0
    report = load_document(json.loads(capsys.readouterr().out), expected=GCReport)
    assert report.interpreter.thresholds == (2800, 10, 10)
    assert report.frozen_objects > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
