"""The guard against this machine's real /proc and cgroup files (where readable)."""

from __future__ import annotations

import gc
import sys
import threading
import time
from typing import Any

import psutil
import pytest

from memwatch.guard import MemoryGuard, MemoryMonitor
from memwatch.guard.source import SystemSource, gpu_usage
from memwatch.probes.cgroup import read_cgroup
from memwatch.probes.gpu import nvml_devices
from memwatch.probes.native import native_reason
from memwatch.probes.psi import PsiTrigger

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux /proc"),
]

MIB = 1 << 20


def test_real_source_reports_its_budget_source_and_rss(collected: None) -> None:
    source = SystemSource(budget="8 GiB", gpu=False)
    sample = source.read()
    assert sample.budget_source == "configured"
    rss = psutil.Process().memory_info().rss
    assert abs(sample.usage - rss) < 32 * MIB
    hog = bytearray(200 * MIB)
    grown = source.read().usage - sample.usage
    del hog
    assert grown > 150 * MIB


def test_the_detected_budget_is_one_of_the_documented_sources() -> None:
    source = SystemSource(gpu=False)
    assert source.budget_source in ("cgroup.v2.max", "cgroup.v2.high", "cgroup.v1.max", "rlimit", "host")
    sample = source.read()
    assert sample.usage > 0
    assert sample.budget > 0
    assert source.budget_detail


def test_cgroup_usage_from_the_real_group() -> None:
    cg = read_cgroup()
    if not cg.directory or cg.current is None:
        pytest.skip(f"no readable memory cgroup here: {cg.reason or 'no usage file'}")
    source = SystemSource(usage="cgroup", budget="64 GiB", gpu=False)
    sample = source.read()
    assert "working set" in sample.usage_source
    assert sample.usage > 0


def test_guard_thread_alerts_when_real_memory_crosses_warning(collected: None) -> None:
    probe = SystemSource(budget="64 GiB", psi=False, gpu=False)
    base = probe.read().usage
    # absolute thresholds above this process's RSS, whatever it is: +200 MiB is a warning
    guard = MemoryGuard(
        warning=base + 100 * MIB,
        critical=base + 500 * MIB,
        emergency=base + 600 * MIB,
        check_interval=0.02,
        reserve=0,
        source=SystemSource(budget="64 GiB", psi=False, gpu=False),
    )
    crossed = threading.Event()
    seen: list[tuple[str, dict[str, Any]]] = []

    def handler(level: str, details: dict[str, Any]) -> None:
        seen.append((level, details))
        crossed.set()

    guard.add_handler(handler)
    with guard:
        time.sleep(0.05)
        assert guard.level == "normal"
        hog = bytearray(200 * MIB)
        assert crossed.wait(5.0)
        del hog
    assert seen[0][0] == "warning"
    assert seen[0][1]["budget_source"] == "configured"
    assert seen[0][1]["usage"] > base + 150 * MIB


def test_memory_monitor_on_the_real_process(collected: None) -> None:
    budget = 64 * 1024 * MIB
    monitor = MemoryMonitor(SystemSource(budget=budget, psi=False, gpu=False))
    before = monitor.current()
    hog = bytearray(100 * MIB)
    assert monitor.peak() >= before + 80 * MIB
    del hog
    now = monitor.current()
    assert abs(monitor.available() - (budget - now)) < 32 * MIB
    assert monitor.percent() == pytest.approx(100 * now / budget, abs=0.1)
    assert monitor.peak() >= before + 80 * MIB  # the peak stays after the release


def test_psi_trigger_on_the_real_pressure_file() -> None:
    source = SystemSource(budget="1 GiB", gpu=False)
    if not source.psi_source:
        pytest.skip(f"PSI is not readable here: {source.reasons.get('psi')}")
    trigger = source.psi_trigger(stall=0.15, window=2.0)
    if trigger is None:
        pytest.skip(f"the kernel refuses PSI triggers here: {source.reasons.get('psi_trigger')}")
    assert trigger.spec.startswith("some 150000 ")
    assert trigger.fired(0.0) in (True, False)  # armed; pressure cannot be forced safely
    standalone = PsiTrigger(source.psi_source, kind="full", stall=0.1, window=1.0)
    assert standalone.available or "refused" in standalone.reason
    standalone.close()
    source.close()


@pytest.mark.gpu
def test_real_nvml_gpu_memory() -> None:
    devices, reason = nvml_devices()
    if not devices:
        pytest.skip(f"no GPU visible: {reason}")
    used_total = gpu_usage()
    assert used_total is not None
    used, total = used_total
    assert 0 <= used <= total
    sample = SystemSource(budget="1 GiB", gpu=True, psi=False).read()
    assert sample.gpu_total == total


@pytest.mark.gpu
def test_real_torch_cuda_oom_falls_back_to_cpu() -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed")
    if not torch.cuda.is_available():
        pytest.skip("torch.cuda is not available (no GPU or a CPU build)")
    from memwatch.guard import oom_protected

    total = torch.cuda.get_device_properties(0).total_memory

    def allocate(device: str) -> str:
        size = total * 2 if device == "cuda" else 1024  # more than the GPU has: a real OOM
        torch.empty(size, dtype=torch.uint8, device=device)
        return device

    assert oom_protected(fallbacks=["cpu"]).run(allocate) == "cpu"
    gc.collect()


def test_guard_thread_with_psi_keeps_its_schedule_and_stops_promptly() -> None:
    source = SystemSource(budget="8 GiB", gpu=False)
    guard = MemoryGuard(source=source, check_interval=0.02, reserve=0)
    with guard:
        time.sleep(0.5)
        assert guard.running
    checks = guard.metrics()["counters"]["checks"]
    assert 5 <= checks <= 40  # about 25: the trigger wait does not spin or stall
    assert not guard.running
    assert guard.level == "normal"
    guard.close()


LADDER_AFTER_BURST = """
import gc, json
from memwatch.guard import MemoryGuard
from memwatch.guard.source import SystemSource
from memwatch.probes.process import rss

base = rss()
guard = MemoryGuard(warning=base + 100 * 2**20, critical=base + 1000 * 2**20,
                    emergency=base + 1100 * 2**20, reserve=0,
                    source=SystemSource(budget="64 GiB", psi=False, gpu=False))
guard.add_strategy("gc")
guard.add_strategy("malloc_trim")
blocks = [bytes(1000 + i % 7) for i in range(200_000)]   # ~200 MiB of malloc'd chunks
keep = bytes(1000)                                        # allocated last: pins the heap top
del blocks
guard.check()
print(json.dumps([[a.name, a.usage_before - a.usage_after] for a in guard.actions]))
"""


@pytest.mark.skipif(native_reason() != "", reason="malloc_trim needs glibc")
def test_malloc_trim_returns_what_gc_cannot_after_a_burst() -> None:
    import json
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", LADDER_AFTER_BURST], capture_output=True, text=True, check=True, timeout=60
    )
    actions = dict(json.loads(out.stdout))
    assert list(actions) == ["gc", "malloc_trim"]  # gc alone left usage at warning
    assert actions["gc"] < 30 * MIB
    assert actions["malloc_trim"] > 120 * MIB
