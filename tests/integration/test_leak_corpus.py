"""The leak corpus: every leak found, no false alarm, the retaining root named."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from memwatch.leaks.runner import detect_leaks
from memwatch.probes import native
from tests.leak_corpus.cases import CASES, Case, reset

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _reset_corpus() -> Iterator[None]:
    gc.collect()
    yield
    reset()
    gc.collect()


@pytest.mark.untraced  # coverage's tracer keeps objects per thread started: measure untraced
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: Case) -> None:
    if case.kind == "native" and native.native_reason():
        pytest.skip(f"needs the native heap probe: {native.native_reason()}")
    report = detect_leaks(case.func, expected_exceptions=case.expected_exceptions)
    assert report.leak_detected is case.leaks, report.explain()
    if not case.leaks:
        assert report.verdict == "clean", report.explain()
        return
    assert report.kind == case.kind, report.explain()
    if case.root is not None:
        assert any(case.root in str(path) for path in report.retention_paths), report.explain()
