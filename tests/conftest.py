"""Shared test configuration. Area-specific fixtures live next to their tests."""

from __future__ import annotations

import gc
import sys

import pytest

LINUX = sys.platform.startswith("linux")


@pytest.fixture
def collected() -> None:
    """Start the test with a fully collected heap."""
    gc.collect()
