from __future__ import annotations

import pytest

from memwatch.errors import ConfigError, UsageError
from memwatch.model.base import Record
from memwatch.reporters import FORMATS, KIND_FORMATS, register_format, render
from memwatch.runs.repeat import benchmark_command, summarise
from tests.unit.runs_factory import job_run


def test_summary_of_three_runs() -> None:
    summary = summarise([1.0, 2.0, 4.0], [10.0, 30.0, 20.0], items=100)
    assert summary["wall_time"]["median"] == 2.0
    assert summary["wall_time"]["stdev"] == pytest.approx(1.5275, abs=1e-4)
    assert summary["peak"]["max"] == 30.0
    assert summary["rate"]["min"] == 25.0  # 100 items / 4 s
    assert summary["rate"]["max"] == 100.0


def test_no_rate_without_items() -> None:
    assert set(summarise([1.0], [2.0], items=None)) == {"wall_time", "peak"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"iterations": 0}, "must be at least 1"),
        ({"iterations": True}, "invalid number of iterations"),
        ({"items": 0}, "invalid number of items"),
    ],
)
def test_bad_benchmark_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        benchmark_command(["true"], **kwargs)  # type: ignore[arg-type]


def test_register_a_format_for_every_kind_and_for_one_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("memwatch.reporters.FORMATS", dict(FORMATS))
    monkeypatch.setattr("memwatch.reporters.KIND_FORMATS", dict(KIND_FORMATS))
    register_format("upper", "tests.unit.test_benchrun", "upper_render")
    assert render(job_run(), "upper") == "RUN"
    register_format("upper", "tests.unit.test_benchrun", "run_only", kind="run")
    assert render(job_run(), "upper") == "a run"


def upper_render(result: Record) -> str:
    return result.KIND.upper()


def run_only(result: Record) -> str:
    if result.KIND != "run":
        raise UsageError("runs only")
    return "a run"
