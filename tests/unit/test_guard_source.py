"""SystemSource on fake cgroup v2 trees on disk: budgets, working set, PSI, memory.events."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from memwatch.errors import ConfigError
from memwatch.guard import MemoryGuard
from memwatch.guard.fakes import FakeClock
from memwatch.guard.source import SystemSource
from memwatch.probes.cgroup import CgroupReader, parse_keyed
from memwatch.probes.kept import KeptFile
from memwatch.probes.psi import PsiFile, PsiTrigger, parse_psi

MIB = 1 << 20
PSI = (
    "some avg10={some:.2f} avg60=1.00 avg300=0.50 total=12345\n"
    "full avg10={full:.2f} avg60=0.10 avg300=0.05 total=678\n"
)


class Tree:
    """/proc/self/cgroup and /sys/fs/cgroup for a process in /app/worker (cgroup v2)."""

    def __init__(self, root: Path) -> None:
        self.proc = root / "proc"
        self.fs = root / "cgroup"
        (self.proc / "self").mkdir(parents=True)
        (self.proc / "self" / "cgroup").write_text("0::/app/worker\n")
        self.app = self.fs / "app"
        self.own = self.app / "worker"
        self.own.mkdir(parents=True)
        (self.fs / "cgroup.controllers").write_text("cpu memory pids\n")
        for group in (self.fs, self.app, self.own):
            (group / "memory.max").write_text("max\n")
            (group / "memory.high").write_text("max\n")
        self.set(current=300 * MIB, inactive=100 * MIB)
        self.events(high=0, max=0, oom=0, oom_kill=0)
        self.pressure(0.0, 0.0)

    def set(self, *, current: int, inactive: int) -> None:
        (self.own / "memory.current").write_text(f"{current}\n")
        (self.own / "memory.stat").write_text(
            f"anon {current - inactive}\nfile {inactive}\nactive_file 0\n"
            f"inactive_file {inactive}\nslab 1234\n"
        )

    def events(self, **counts: int) -> None:
        (self.own / "memory.events").write_text("low 0\n" + "".join(f"{k} {v}\n" for k, v in counts.items()))

    def pressure(self, some: float, full: float) -> None:
        (self.own / "memory.pressure").write_text(PSI.format(some=some, full=full))

    def reader(self) -> CgroupReader:
        return CgroupReader(proc_root=self.proc, fs_root=self.fs)


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path)


def test_the_ancestor_limit_binds_and_the_source_says_so(tree: Tree) -> None:
    (tree.app / "memory.max").write_text(f"{1024 * MIB}\n")
    (tree.own / "memory.max").write_text(f"{2048 * MIB}\n")
    source = SystemSource(reader=tree.reader(), gpu=False)
    sample = source.read()
    assert sample.budget == 1024 * MIB
    assert source.budget_source == "cgroup.v2.max"
    assert source.budget_detail == str(tree.app / "memory.max")
    assert sample.usage == 200 * MIB  # working set: current - inactive_file
    assert "working set" in sample.usage_source
    assert sample.psi_some_avg10 == 0.0
    assert source.psi_source == str(tree.own / "memory.pressure")


def test_memory_high_sets_the_budget_without_a_hard_limit(tree: Tree) -> None:
    (tree.own / "memory.high").write_text(f"{800 * MIB}\n")
    source = SystemSource(reader=tree.reader(), gpu=False)
    assert source.read().budget == 800 * MIB
    assert source.budget_source == "cgroup.v2.high"


def test_no_limit_anywhere_falls_back_to_rlimit_or_host(tree: Tree) -> None:
    source = SystemSource(reader=tree.reader(), gpu=False)
    assert source.budget_source in ("rlimit", "host")
    expected = {"host": "rss", "rlimit": ("vms", "data")}[source.budget_source]
    assert source.usage_source.split()[0] in expected
    assert source.read().usage > 0


def test_a_configured_budget_wins(tree: Tree) -> None:
    (tree.app / "memory.max").write_text(f"{1024 * MIB}\n")
    source = SystemSource(reader=tree.reader(), budget="300 MiB", gpu=False)
    sample = source.read()
    assert (sample.budget, sample.budget_source) == (300 * MIB, "configured")
    assert sample.usage_source.startswith("rss")


def test_working_set_reuses_inactive_file_between_stat_refreshes(tree: Tree) -> None:
    (tree.app / "memory.max").write_text(f"{1024 * MIB}\n")
    clock = FakeClock()
    source = SystemSource(reader=tree.reader(), clock=clock, stat_interval=1.0, gpu=False)
    assert source.read().usage == 200 * MIB
    tree.set(current=500 * MIB, inactive=300 * MIB)
    assert source.read().usage == 400 * MIB  # memory.current is fresh, inactive_file cached
    clock.advance(1.0)
    assert source.read().usage == 200 * MIB


def test_the_budget_is_re_read_after_refresh(tree: Tree) -> None:
    (tree.app / "memory.max").write_text(f"{1024 * MIB}\n")
    clock = FakeClock()
    source = SystemSource(reader=tree.reader(), clock=clock, refresh=5.0, gpu=False)
    (tree.app / "memory.max").write_text(f"{512 * MIB}\n")
    assert source.read().budget == 1024 * MIB
    clock.advance(5.0)
    assert source.read().budget == 512 * MIB


def test_memory_events_are_reported_as_deltas(tree: Tree) -> None:
    (tree.app / "memory.max").write_text(f"{1024 * MIB}\n")
    tree.events(high=4, max=1, oom=0, oom_kill=0)
    source = SystemSource(reader=tree.reader(), gpu=False)
    assert source.read().events == {}
    tree.events(high=10, max=1, oom=1, oom_kill=1)
    assert source.read().events == {"high": 6, "oom": 1, "oom_kill": 1}
    assert source.read().events == {}


def test_psi_is_read_each_time_and_drives_the_level(tree: Tree) -> None:
    (tree.app / "memory.max").write_text(f"{1024 * MIB}\n")
    clock = FakeClock()
    source = SystemSource(reader=tree.reader(), clock=clock, gpu=False)
    guard = MemoryGuard(source=source, clock=clock, reserve=0)
    guard.check()
    assert guard.level == "normal"
    tree.pressure(some=45.5, full=35.25)
    sample = guard.check()
    assert sample is not None
    assert (sample.psi_some_avg10, sample.psi_full_avg10) == (45.5, 35.25)
    assert guard.level == "critical"
    assert "PSI full" in guard.alerts[-1].reason


def test_guard_levels_follow_the_cgroup_working_set(tree: Tree) -> None:
    (tree.app / "memory.max").write_text(f"{1000 * MIB}\n")
    clock = FakeClock()
    source = SystemSource(reader=tree.reader(), clock=clock, stat_interval=0.0, gpu=False)
    guard = MemoryGuard(source=source, clock=clock, reserve=0)
    levels = []
    for current in (300, 800, 900, 1010):
        tree.set(current=current * MIB, inactive=50 * MIB)
        guard.check()
        levels.append(str(guard.level))
    assert levels == ["normal", "warning", "critical", "emergency"]
    assert guard.metrics()["gauges"]["budget_bytes"] == 1000 * MIB


def test_missing_psi_is_reported_with_a_reason(tree: Tree) -> None:
    (tree.app / "memory.max").write_text(f"{1024 * MIB}\n")
    source = SystemSource(reader=tree.reader(), psi_path=str(tree.fs / "nope"), gpu=False)
    assert source.read().psi_some_avg10 is None
    assert "nope" in source.reasons["psi"]


def test_gpu_reader_is_injectable_and_cached(tree: Tree) -> None:
    clock = FakeClock()
    calls = []

    def fake_gpu() -> tuple[int, int]:
        calls.append(1)
        return 7 * MIB, 8 * MIB

    source = SystemSource(reader=tree.reader(), clock=clock, gpu=fake_gpu, gpu_interval=1.0)
    sample = source.read()
    source.read()
    assert (sample.gpu_used, sample.gpu_total) == (7 * MIB, 8 * MIB)
    assert len(calls) == 1
    clock.advance(1.0)
    source.read()
    assert len(calls) == 2


def test_usage_cgroup_without_a_group_is_a_config_error(tmp_path: Path) -> None:
    reader = CgroupReader(proc_root=tmp_path / "none", fs_root=tmp_path / "none")
    with pytest.raises(ConfigError, match="cgroup"):
        SystemSource(reader=reader, usage="cgroup", gpu=False)
    with pytest.raises(ConfigError, match="usage mode"):
        SystemSource(reader=reader, usage="pss", gpu=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PSI.format(some=12.5, full=3.0).encode(), (12.5, 3.0)),
        (b"some avg10=0.40 avg60=0.00 avg300=0.00 total=1\n", (0.4, None)),
        (b"", (None, None)),
        (b"garbage\nsome avg10=x\n", (None, None)),
    ],
)
def test_parse_psi_avg10(text: bytes, expected: tuple[float | None, float | None], tmp_path: Path) -> None:
    for values in (parse_psi(text, avg10_only=True), parse_psi(text)):  # the fast path and the full one agree
        assert (values.get(b"some_avg10"), values.get(b"full_avg10")) == expected
    path = tmp_path / "memory.pressure"
    path.write_bytes(text)
    psi = PsiFile(str(path))
    assert psi.available == (expected[0] is not None)
    if psi.available:
        assert psi.avg10() == expected
    else:
        assert "no PSI lines" in psi.reason


def test_parse_keyed_and_kept_file(tmp_path: Path) -> None:
    path = tmp_path / "memory.events"
    path.write_text("low 0\nhigh 7\nbad x\n")
    kept = KeptFile(str(path))
    assert parse_keyed(kept.read()) == {"low": 0, "high": 7}
    assert parse_keyed(kept.read(), frozenset({b"high"})) == {"high": 7}
    path.write_text("high 9\n")  # rewritten in place: the kept fd sees the new content
    assert parse_keyed(kept.read()) == {"high": 9}
    kept.close()
    assert kept.read() is None
    missing = KeptFile(str(tmp_path / "missing"))
    assert not missing.available
    assert "missing" in missing.reason


def test_psi_trigger_refused_on_a_missing_file(tmp_path: Path) -> None:
    trigger = PsiTrigger(str(tmp_path / "memory.pressure"))
    assert not trigger.available
    assert trigger.fired(0.0) is False
    with pytest.raises(ValueError, match="some"):
        PsiTrigger(os.devnull, kind="half")


def test_psi_trigger_that_errors_is_dropped_not_spun_on() -> None:
    read_end, write_end = os.pipe()
    os.close(write_end)  # poll() now reports POLLHUP at once
    trigger = PsiTrigger.__new__(PsiTrigger)
    trigger.path, trigger.kind, trigger.spec, trigger.reason = "pipe", "some", "", ""
    trigger.fd = read_end
    assert trigger.fired(5.0) is False  # returns at once, without waiting 5 s
    assert not trigger.available
    assert "polling instead" in trigger.reason


class _FakeNvml:
    """Two devices: 2 of 8 GiB and 7 of 8 GiB used."""

    def __init__(self) -> None:
        self.used = [2 << 30, 7 << 30]

    def nvmlInit(self) -> None:
        return None

    def nvmlDeviceGetCount(self) -> int:
        return len(self.used)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> object:
        return type("Mem", (), {"used": self.used[handle], "total": 8 << 30})()

    def nvmlDeviceGetName(self, handle: int) -> bytes:
        return b"Fake GPU"


class _FakeCuda:
    def is_available(self) -> bool:
        return True

    def device_count(self) -> int:
        return 2

    def mem_get_info(self, index: int) -> tuple[int, int]:
        return ((6 << 30, 8 << 30), (1 << 30, 8 << 30))[index]  # (free, total)


def test_gpu_usage_takes_the_fullest_device() -> None:
    from types import SimpleNamespace

    from memwatch.guard.source import gpu_usage

    assert gpu_usage(_FakeNvml()) == (7 << 30, 8 << 30)
    broken = SimpleNamespace(nvmlInit=lambda: (_ for _ in ()).throw(RuntimeError("no driver")))
    torch = SimpleNamespace(cuda=_FakeCuda())
    assert gpu_usage(broken, torch) == (7 << 30, 8 << 30)  # NVML fails: torch.cuda.mem_get_info
    no_cuda = SimpleNamespace(cuda=SimpleNamespace(is_available=lambda: False))
    assert gpu_usage(broken, no_cuda) is None


def test_kept_file_reads_at_most_its_size(tmp_path: Path) -> None:
    path = tmp_path / "memory.current"
    path.write_text("123456\n")
    kept = KeptFile(str(path), 64)
    assert kept.read() == b"123456\n"
    assert kept.read_int() == 123456
    path.write_text("x" * 100)
    assert kept.read() == b"x" * 64
    assert kept.read_int() is None
    kept.close()


def test_source_usage_modes_read_statm(tree: Tree) -> None:
    import psutil

    info = psutil.Process().memory_info()
    rss = SystemSource(reader=tree.reader(), budget="1 GiB", usage="rss", psi=False, gpu=False)
    vms = SystemSource(reader=tree.reader(), budget="1 GiB", usage="vms", psi=False, gpu=False)
    data = SystemSource(reader=tree.reader(), budget="1 GiB", usage="data", psi=False, gpu=False)
    assert abs(rss.read().usage - info.rss) < 16 * MIB
    assert abs(vms.read().usage - info.vms) < 16 * MIB
    assert 0 < data.read().usage <= vms.read().usage
    assert data.usage_source.startswith("data segment")


def test_psi_trigger_wait_ends_early_on_the_wake_pipe() -> None:
    import time

    quiet_r, quiet_w = os.pipe()  # stands in for an armed, silent PSI file
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    trigger = PsiTrigger.__new__(PsiTrigger)
    trigger.path, trigger.kind, trigger.spec, trigger.reason = "quiet", "some", "", ""
    trigger.fd = quiet_r
    os.write(wake_w, b"!")
    start = time.monotonic()
    assert trigger.fired(5.0, wake_fd=wake_r) is False
    assert time.monotonic() - start < 2.0
    assert trigger.available  # a wake-up is not an error
    assert trigger.fired(0.0, wake_fd=wake_r) is False  # the wake byte was consumed
    for fd in (quiet_r, quiet_w, wake_r, wake_w):
        os.close(fd)
    trigger.fd = None
