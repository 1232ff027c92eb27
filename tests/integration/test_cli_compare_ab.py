"""`memwatch compare --ab` (two implementations) and `memwatch compare ID ID` (stored runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memwatch.cli import main
from memwatch.model.history import ResultRow
from memwatch.regression.abtest import compare_implementations
from memwatch.store import open_store

IMPLS = """
_KEEP = []

def make_input():
    return list(range(2000))

def copy_list(xs):
    return list(xs)

def copy_dict(xs):
    return {x: x for x in xs}

def leaky(xs):
    _KEEP.append(list(xs))
"""


@pytest.fixture
def impls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "impls_mod.py").write_text(IMPLS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_library_judges_an_obvious_difference(impls: Path) -> None:
    import impls_mod  # type: ignore[import-not-found]

    xs = impls_mod.make_input()
    result = compare_implementations(impls_mod.copy_list, impls_mod.copy_dict, (xs,), samples=6, batch=5)
    peak = result.metric("peak")
    assert peak.verdict == "b worse"  # a 2,000-entry dict is several times a 2,000-slot list
    assert peak.ratio is not None
    assert peak.ratio > 2
    assert peak.p_value is not None
    assert peak.p_value < 0.05
    assert result.metric("growth").verdict == "no difference"
    leak = compare_implementations(impls_mod.copy_list, impls_mod.leaky, (xs,), samples=6, batch=5)
    assert leak.metric("growth").verdict == "b worse"
    assert leak.metric("growth").b_median > 15_000  # a kept 2,000-slot list per call


def test_cli_ab_text_json_and_failure_flag(impls: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "compare",
        "--ab",
        "impls_mod:copy_list",
        "impls_mod:copy_dict",
        "--input",
        "impls_mod:make_input",
        "--samples",
        "5",
        "--batch",
        "3",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "A: impls_mod:copy_list" in out
    assert "b worse" in out
    assert main([*args, "-f", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "ab_comparison"
    assert main([*args, "--fail-on-regression"]) == 1
    assert "regressed: peak" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["impls_mod:nope", "impls_mod:copy_list"], "has no attribute 'nope'"),
        (["impls_mod:copy_list", "nomodule_x:f"], "cannot import module 'nomodule_x'"),
        (["impls_mod:copy_list", "impls_mod:copy_dict", "--samples", "1"], "samples must be an integer >= 2"),
    ],
)
def test_cli_ab_bad_input(
    impls: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(["compare", "--ab", *extra, "--input", "impls_mod:make_input"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_cli_compares_two_stored_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "h.db")
    with open_store(db) as store:
        first = store.record_run(
            "pytest",
            [
                ResultRow("t::a", "peak", "bytes", (100e6, 101e6, 99e6, 100e6, 100.5e6)),
                ResultRow("t::b", "peak", "bytes", (50e6, 50e6, 50.1e6, 49.9e6, 50e6)),
            ],
        )
        second = store.record_run(
            "pytest",
            [
                ResultRow("t::a", "peak", "bytes", (160e6, 161e6, 159e6, 160e6, 160.5e6)),
                ResultRow("t::b", "peak", "bytes", (50e6, 50.2e6, 49.8e6, 50e6, 50e6)),
            ],
        )
    assert main(["compare", str(first), str(second), "--db", db]) == 0
    out = capsys.readouterr().out
    assert "t::a" in out
    assert "+60.0%" in out
    assert "regressed (critical)" in out
    assert "1 regressed, 1 unchanged" in out
    assert main(["compare", str(first), str(second), "--db", db, "--fail-on-regression"]) == 1
    assert "regressed: t::a peak" in capsys.readouterr().err
    assert main(["compare", str(first), "99", "--db", db]) == 2
    assert "no run 99" in capsys.readouterr().err
