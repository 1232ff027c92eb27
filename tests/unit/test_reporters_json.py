from __future__ import annotations

import json

from memwatch.model.base import SCHEMA_VERSION, load_document
from memwatch.model.timeline import BenchmarkResult, ComparisonResult, RunResult
from memwatch.reporters import render
from memwatch.runs.compare import compare_runs
from tests.unit.runs_factory import job_run
from tests.unit.test_reporters_text import sample_benchmark


def test_json_is_the_versioned_document_and_loads_back() -> None:
    run = job_run(command=("python", "job.py"), exit="exited", exit_code=0)
    doc = json.loads(render(run, "json"))
    assert doc["memwatch_schema"] == SCHEMA_VERSION
    assert doc["kind"] == "run"
    assert load_document(doc, expected=RunResult) == run


def test_json_of_comparison_and_benchmark_round_trip() -> None:
    cmp = compare_runs(job_run(), job_run(scale=1.5))
    assert load_document(json.loads(render(cmp, "json")), expected=ComparisonResult) == cmp
    bench = sample_benchmark()
    assert load_document(json.loads(render(bench, "json")), expected=BenchmarkResult) == bench


def test_json_keys_are_sorted_and_nan_is_spelled_out() -> None:
    run = job_run()
    from dataclasses import replace

    text = render(replace(run, peak=float("nan")), "json")
    assert '"peak": "nan"' in text
    doc = json.loads(text)
    assert list(doc) == sorted(doc)
