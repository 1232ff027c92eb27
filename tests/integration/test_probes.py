"""Probes read real memory: allocate large, obvious amounts and watch each signal move."""

from __future__ import annotations

import ctypes
import gc
import os
import subprocess
import sys
import threading

import pytest

from memwatch.errors import ConfigError, UnavailableError
from memwatch.probes import CHEAP, SIGNALS, native, process, signal
from memwatch.probes import python as pyprobe
from memwatch.probes.base import Reading

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc probes")
MiB = 2**20


def test_rss_follows_a_touched_200_mib_buffer() -> None:
    gc.collect()
    before = process.rss()
    buf = bytearray(200 * MiB)  # calloc'd pages are touched by bytearray's zero fill
    for i in range(0, len(buf), 4096):
        buf[i] = 1
    during = process.rss()
    del buf
    gc.collect()
    after = process.rss()
    assert during - before > 180 * MiB
    assert during - after > 150 * MiB


def test_peak_rss_reset_forgets_an_old_peak() -> None:
    buf = bytearray(150 * MiB)
    for i in range(0, len(buf), 4096):
        buf[i] = 1
    del buf
    gc.collect()
    old_peak = process.peak_rss().require()
    reset = process.reset_peak_rss()
    if not reset.available:
        pytest.skip(f"kernel refused the VmHWM reset: {reset.reason}")
    assert reset.source == "VmHWM"
    assert reset.require() < old_peak - 100 * MiB
    assert process.peak_rss().require() >= process.rss() - 8 * MiB


def test_native_heap_sees_ctypes_malloc_that_python_does_not() -> None:
    if native.native_reason():
        pytest.skip(native.native_reason())
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    before_native = native.native_heap().require()
    before_blocks = pyprobe.allocated_blocks()
    ptrs = [libc.malloc(64 * 1024) for _ in range(800)]  # 50 MiB in 64 KiB chunks
    try:
        grown = native.native_heap().require() - before_native
        assert grown > 45 * MiB
        assert abs(pyprobe.allocated_blocks() - before_blocks) < 5000
    finally:
        for ptr in ptrs:
            libc.free(ptr)
    assert native.native_heap().require() - before_native < 10 * MiB


def test_mallinfo_fields_add_up() -> None:
    info = native.mallinfo()
    if info is None:
        pytest.skip(native.native_reason())
    assert info.in_use == info.in_use_small + info.mmapped
    assert native.malloc_trim(0) in (True, False)


def test_allocated_blocks_count_python_objects() -> None:
    gc.collect()
    before = pyprobe.allocated_blocks()
    keep = [object() for _ in range(100_000)]
    assert pyprobe.allocated_blocks() - before >= 99_000
    del keep


def test_tracemalloc_readings_only_while_tracing() -> None:
    import tracemalloc

    assert not pyprobe.tracemalloc_current().available
    tracemalloc.start()
    try:
        data = [bytes(1000) for _ in range(1000)]
        current = pyprobe.tracemalloc_current().require()
        assert current > 900_000
        assert pyprobe.tracemalloc_peak().require() >= current
        del data
    finally:
        tracemalloc.stop()
    with pytest.raises(UnavailableError, match="not tracing"):
        pyprobe.tracemalloc_current().require()


def test_fds_and_threads_count_what_we_open() -> None:
    fds = process.open_fds()
    r, w = os.pipe()
    try:
        assert process.open_fds() == fds + 2
    finally:
        os.close(r)
        os.close(w)
    threads = process.thread_count()
    stop = threading.Event()
    workers = [threading.Thread(target=stop.wait) for _ in range(3)]
    for t in workers:
        t.start()
    try:
        assert process.thread_count() == threads + 3
    finally:
        stop.set()
        for t in workers:
            t.join()


def test_statm_reader_for_a_child_and_its_exit() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; print('ready', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
        reader = process.StatmReader(child.pid)
        assert reader.read_rss() > 1 * MiB
        assert reader.read_vms() >= reader.read_rss()
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait()
        assert child.stdout is not None
        child.stdout.close()
    with pytest.raises(ProcessLookupError):
        reader.read_rss()
    reader.close()


def test_uss_is_read_on_demand() -> None:
    reading = process.uss()
    assert isinstance(reading, Reading)
    if reading.available:
        assert 0 < reading.require() <= process.rss() * 2


def test_signal_registry() -> None:
    assert set(CHEAP) <= set(SIGNALS)
    for name in SIGNALS:
        sig = signal(name)
        if sig.available:
            assert sig.read() >= 0
        else:
            assert sig.reason
    with pytest.raises(ConfigError, match="unknown probe 'nope'; known probes: rss"):
        signal("nope")
