"""MemoryAlertSystem thresholds as shares of the container's memory (document 001)."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from memwatch.errors import ConfigError
from memwatch.guard import MemoryAlertSystem
from memwatch.guard.source import SystemSource
from tests.unit.test_guard_source import MIB, Tree


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path)


def test_container_scope_counts_the_cgroup_working_set_against_its_limit(tree: Tree) -> None:
    (tree.app / "memory.max").write_text(f"{1000 * MIB}\n")
    tree.set(current=800 * MIB, inactive=50 * MIB)
    source = SystemSource(reader=tree.reader(), usage="container", psi=False, gpu=False)
    sample = source.read()
    assert sample.budget == 1000 * MIB
    assert sample.usage == 750 * MIB  # the whole group's working set, not this process's RSS
    assert sample.fraction == pytest.approx(0.75)
    assert "working set" in source.usage_source


def test_container_scope_without_a_limit_is_the_host_percent(tree: Tree) -> None:
    source = SystemSource(reader=tree.reader(), usage="container", psi=False, gpu=False)
    sample = source.read()
    vm = psutil.virtual_memory()
    assert source.budget_source == "host"
    assert sample.budget == vm.total
    # what psutil calls percent: (total - available) / total; the host moves, so loosely
    assert abs(sample.fraction * 100 - vm.percent) < 5
    assert sample.usage > psutil.Process(os.getpid()).memory_info().rss


def test_alert_system_defaults_to_the_container_and_process_scope_is_kept(tree: Tree) -> None:
    alerts = MemoryAlertSystem(0.7, 0.85, 0.1)
    assert alerts.scope == "container"
    assert (
        alerts.guard.source.usage_source
        in {
            "host memory used (total - available)",
        }
        or "working set" in alerts.guard.source.usage_source
    )
    process_scope = MemoryAlertSystem(0.7, 0.85, 0.1, scope="process")
    assert "host memory" not in process_scope.guard.source.usage_source
    with pytest.raises(ConfigError, match="scope"):
        MemoryAlertSystem(scope="galaxy")
