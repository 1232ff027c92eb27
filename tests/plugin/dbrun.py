"""A pytester run recorded in the project's ``h.db``, the workload's size from ``MW_TEST_SIZE``."""

from __future__ import annotations

import pytest


def run_with_db(
    pytester: pytest.Pytester, size: int, *args: str, monkeypatch: pytest.MonkeyPatch
) -> pytest.RunResult:
    monkeypatch.setenv("MW_TEST_SIZE", str(size))
    return pytester.runpytest("--memwatch-db", f"sqlite:///{pytester.path / 'h.db'}", *args)
