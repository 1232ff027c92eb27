"""The per-test peak probe: VmHWM reset, read through getrusage or /proc/self/status."""

from __future__ import annotations

import gc
import os
import sys

import pytest

from memwatch.plugin.recorder import BodyMeter
from memwatch.probes.hwm import HighWaterMark
from memwatch.probes.native import malloc_trim
from memwatch.probes.process import rss

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM reset is Linux only")


def _settle() -> None:
    """Free memory kept by the allocator goes back to the OS, so new blocks raise RSS."""
    gc.collect()
    malloc_trim(0)


def _touch(n: int) -> bytearray:
    data = bytearray(n)
    data[::4096] = b"x" * len(data[::4096])
    return data


def test_peak_covers_a_freed_block() -> None:
    _settle()
    mark = HighWaterMark()
    if not mark.works:
        pytest.skip("the kernel refused the clear_refs write here")
    start = rss()
    mark.reset(start)
    block = _touch(60_000_000)
    del block
    assert mark.peak() - start > 50_000_000


def test_stale_rusage_mark_falls_back_to_proc_status(monkeypatch: pytest.MonkeyPatch) -> None:
    import resource
    import types

    import memwatch.probes.hwm as hwm_module

    _settle()
    mark = HighWaterMark()
    if not mark.works:
        pytest.skip("the kernel refused the clear_refs write here")
    # getrusage reporting a mark far above the RSS (as after an exec from a big process)
    stale = types.SimpleNamespace(ru_maxrss=64 * 2**20)  # KiB: 64 GiB
    fake = types.SimpleNamespace(RUSAGE_SELF=resource.RUSAGE_SELF, getrusage=lambda who: stale)
    monkeypatch.setattr(hwm_module, "resource", fake)
    start = rss()
    mark.reset(start)
    block = _touch(30_000_000)
    del block
    assert 25_000_000 < mark.peak() - start < 200_000_000  # from /proc/self/status, not 64 GiB


def test_body_meter_figures() -> None:
    gc.collect()
    meter = BodyMeter(settle=True)
    meter.start()
    block = _touch(40_000_000)
    del block
    figures = meter.stop()
    assert figures.peak > 35_000_000
    assert figures.peak_source in ("VmHWM", "sampler")
    assert figures.duration > 0
    assert figures.growth <= figures.peak  # the allocator may keep the freed block resident


def test_reset_lowers_a_mark_left_high_by_an_earlier_block() -> None:
    _settle()
    mark = HighWaterMark()
    if not mark.works:
        pytest.skip("the kernel refused the clear_refs write here")
    block = _touch(60_000_000)
    del block
    _settle()  # the block is gone from RSS, the mark still stands above it
    start = mark.rss()
    skipped = mark.skipped
    mark.reset(start)
    assert mark.skipped == skipped  # the mark was above the RSS: it had to be written
    assert mark.peak() - start < 20_000_000  # the earlier 60 MB block no longer counts


def test_reset_is_skipped_when_the_mark_stands_at_the_rss() -> None:
    _settle()
    mark = HighWaterMark()
    if not mark.works:
        pytest.skip("the kernel refused the clear_refs write here")
    for _ in range(20):  # the RSS can move between the read and the reset; try again then
        start = mark.rss()
        skipped = mark.skipped
        mark.reset(start)
        if mark.skipped > skipped:
            break
    else:  # signal.maxrss: left by an exited thread or the image this process replaced
        pytest.skip("getrusage reports an older, higher mark in this process: no reset can be skipped")
    block = _touch(40_000_000)
    del block
    assert mark.peak() - start > 35_000_000  # the skipped reset still measures the body


def test_rss_matches_the_probes_reader() -> None:
    mark = HighWaterMark()
    if not mark.works:
        pytest.skip("the kernel refused the clear_refs write here")
    assert abs(mark.rss() - rss()) < 8_000_000


def test_descriptors_are_reopened_in_a_forked_child() -> None:
    import os

    mark = HighWaterMark()
    if not mark.works:
        pytest.skip("the kernel refused the clear_refs write here")
    parent = mark.rss()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own RSS, from its own /proc/self files
        try:
            os.close(read)
            block = _touch(300_000_000)
            with open("/proc/self/statm", "rb") as handle:
                fresh = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            os.write(write, f"{mark.rss()} {fresh}".encode())
            del block
        finally:
            os._exit(0)
    os.close(write)
    value, fresh = (int(v) for v in os.read(read, 128).split())
    os.close(read)
    os.waitpid(pid, 0)
    assert abs(value - fresh) < 16_000_000  # the child's own RSS ...
    assert abs(value - parent) > 150_000_000  # ... not the parent's


def test_skip_logic_with_a_fake_getrusage(monkeypatch: pytest.MonkeyPatch) -> None:
    import resource
    import types

    import memwatch.probes.hwm as hwm_module

    mark = HighWaterMark()
    if not mark.works:
        pytest.skip("the kernel refused the clear_refs write here")
    writes: list[bytes] = []
    real_write = os.write  # the os module hwm writes through

    def spy_write(fd: int, data: bytes) -> int:
        writes.append(data)
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", spy_write)
    reported = types.SimpleNamespace(ru_maxrss=100_000)  # KiB
    fake = types.SimpleNamespace(RUSAGE_SELF=resource.RUSAGE_SELF, getrusage=lambda who: reported)
    monkeypatch.setattr(hwm_module, "resource", fake)
    mark.reset(100_000 * 1024)  # the mark stands at the RSS: no write
    assert writes == []
    assert mark.skipped == 1
    assert mark.peak() == 100_000 * 1024  # read back through getrusage
    mark.reset(50_000 * 1024)  # the mark is above the RSS: reset it
    assert writes == [b"5"]
    assert mark.skipped == 1
