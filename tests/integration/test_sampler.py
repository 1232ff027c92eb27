"""The sampler against real memory: large, obvious allocations and generous bounds."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from memwatch.sampling.sampler import Sampler

pytestmark = pytest.mark.integration
MIB = 2**20
LINUX = sys.platform.startswith("linux")


def allocate(nbytes: int) -> bytes:
    """Bytes that are really resident: every page written."""
    return b"\x01" * nbytes


def rise(values: np.ndarray) -> float:
    return float(np.nanmax(values) - values[0])


def test_thread_mode_sees_200_mib_come_and_go() -> None:
    gc.collect()
    with Sampler(0.005) as sampler:
        time.sleep(0.03)
        block = allocate(200 * MIB)
        time.sleep(0.08)
        del block
        time.sleep(0.05)
    tl = sampler.timeline()
    rss = tl.signal("rss")
    assert rise(rss) > 180 * MIB
    assert rss[-1] - rss[0] < 50 * MIB  # a freed mmap'd block leaves the process
    assert tl.peaks["rss"] == pytest.approx(float(np.max(rss)))
    if "native_heap" in tl.signals:  # glibc: a malloc'd block is native heap too
        assert rise(tl.signal("native_heap")) > 180 * MIB
    assert len(tl) >= 10


@pytest.mark.skipif(not LINUX, reason="process mode reads /proc/<pid>/statm")
def test_process_mode_at_2ms_sees_the_allocation_and_is_rarely_late() -> None:
    gc.collect()
    with Sampler(0.002, mode="process") as sampler:
        time.sleep(0.1)  # the helper starts in a few tens of ms
        block = allocate(150 * MIB)
        end = time.monotonic() + 0.15
        while time.monotonic() < end:  # keep the GIL busy: the helper does not care
            sum(range(1000))
        del block
        time.sleep(0.05)
    tl = sampler.timeline()
    assert tl.mode == "process"
    assert list(tl.signals) == ["rss"]
    assert rise(tl.signal("rss")) > 130 * MIB
    assert np.all(np.diff(tl.t) >= 0)
    assert len(tl) > 50  # ~150 expected at 2 ms; a loaded machine may lose some
    assert tl.late_samples < len(tl) / 2


def test_stop_is_prompt_even_with_a_long_interval() -> None:
    sampler = Sampler(5.0).start()
    time.sleep(0.05)
    began = time.monotonic()
    sampler.stop()
    assert time.monotonic() - began < 1.0


CHILD = textwrap.dedent("""
    import subprocess, sys, time
    grandchild = subprocess.Popen([sys.executable, "-c",
        "import time; b = b'\\\\x01' * (100 * 2**20); time.sleep(1.5)"])
    block = b"\\x01" * (80 * 2**20)
    time.sleep(1.5)
    grandchild.wait()
""")


def test_another_process_tree_is_summed_and_its_exit_ends_sampling() -> None:
    proc = subprocess.Popen([sys.executable, "-c", CHILD])
    try:
        sampler = Sampler(0.02, pid=proc.pid).start()
        deadline = time.monotonic() + 10
        while not sampler.target_exited and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.wait(timeout=10) == 0
        tl = sampler.stop()
    finally:
        proc.kill()
        proc.wait()
    assert sampler.target_exited
    assert tl.signals.keys() == {"rss", "processes"}
    assert np.nanmax(tl.signal("processes")) == 2
    assert np.nanmax(tl.signal("rss")) > 170 * MIB  # 80 MiB + 100 MiB, two processes
