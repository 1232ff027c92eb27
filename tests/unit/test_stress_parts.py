"""The harness's parts without a child: cap choice on fake cgroup trees, the event file, targets,
the simulator with an injected memory source, the fake CUDA device, CLI parsing helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from memwatch.cli.stress import _scenario_names, parse_hours
from memwatch.errors import ConfigError
from memwatch.stress.cap import MIN_CAP, cgroup_parent, prepare_cap
from memwatch.stress.child import read_events
from memwatch.stress.gpu import FakeCuda, FakeCudaOutOfMemoryError, gpu_allocator, is_gpu_oom
from memwatch.stress.simulator import MemoryPressureSimulator, MemoryStressTester
from memwatch.stress.worker import BadTarget, resolve_target

MiB = 2**20


def fake_tree(tmp_path: Path, *, v2: bool = True, delegated: str = "cpu memory") -> tuple[Path, Path]:
    proc, fs = tmp_path / "proc", tmp_path / "cgroup"
    (proc / "self").mkdir(parents=True)
    group = fs / "user.slice" / "job"
    group.mkdir(parents=True)
    if v2:
        (fs / "cgroup.controllers").write_text("cpu memory\n")
        (proc / "self" / "cgroup").write_text("0::/user.slice/job\n")
    else:
        (proc / "self" / "cgroup").write_text("4:memory:/user.slice/job\n")
    (group / "cgroup.subtree_control").write_text(delegated + "\n")
    return proc, fs


def test_cgroup_cap_when_the_group_delegates_memory(tmp_path: Path) -> None:
    proc, fs = fake_tree(tmp_path)
    cap = prepare_cap(256 * MiB, proc_root=proc, fs_root=fs)
    assert cap.method == "cgroup"
    group = Path(cap.cgroup)
    assert group.parent == fs / "user.slice" / "job"
    assert (group / "memory.max").read_text() == f"{256 * MiB}\n"
    (group / "memory.max").unlink()  # a real cgroupfs folder has no removable files
    cap.cleanup()
    assert not group.exists()


@pytest.mark.parametrize(
    ("tree", "reason"),
    [
        ({"delegated": "cpu"}, "does not delegate the memory controller"),
        ({"v2": False}, "not on cgroup v2"),
    ],
)
def test_rlimit_fallback_says_why(tmp_path: Path, tree: dict[str, object], reason: str) -> None:
    proc, fs = fake_tree(tmp_path, **tree)  # type: ignore[arg-type]
    cap = prepare_cap(256 * MiB, proc_root=proc, fs_root=fs)
    assert cap.method == "rlimit"
    assert reason in cap.reason
    with pytest.raises(ConfigError, match="cannot cap with a cgroup"):
        prepare_cap(256 * MiB, "cgroup", proc_root=proc, fs_root=fs)


def test_cap_rejects_tiny_limit_and_unknown_method(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="too small"):
        prepare_cap(MIN_CAP - 1)
    with pytest.raises(ConfigError, match="unknown cap method"):
        prepare_cap(MIN_CAP, "as")  # type: ignore[arg-type]
    assert prepare_cap(MIN_CAP, "rlimit").method == "rlimit"
    assert cgroup_parent(proc_root=tmp_path / "none")[0] is None


def test_read_events_skips_torn_and_garbled_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"e":"ready","pid":1}\nnot json\n[1,2]\n\n{"e":"sample","rss":5}\n{"e":"resu')
    assert read_events(path) == [{"e": "ready", "pid": 1}, {"e": "sample", "rss": 5}]
    assert read_events(tmp_path / "missing") == []


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nocolon", "expected module:callable"),
        ("memwatch_no_such_module:f", "cannot import module"),
        ("os:no_such_attr", "has no attribute"),
        ("os:sep", r"is not callable \(it is a str\)"),
        ("os:F_OK", r"is not callable \(it is an int\)"),
    ],
)
def test_resolve_target_errors(target: str, message: str) -> None:
    with pytest.raises(BadTarget, match=message):
        resolve_target(target)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def f(:\n", "SyntaxError: invalid syntax"),
        ("raise RuntimeError('boom at import')\n", "RuntimeError: boom at import"),
    ],
)
def test_a_module_that_fails_to_import_is_a_bad_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, message: str
) -> None:
    """Was reported as the code under test raising (a failed check, exit 1), not a bad target (2)."""
    (tmp_path / "memwatch_qa_broken.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(BadTarget, match=f"cannot import module 'memwatch_qa_broken' .*{message}"):
        resolve_target("memwatch_qa_broken:f")


def test_resolve_target_dotted() -> None:
    assert resolve_target("os.path:join") is os.path.join
    assert (
        resolve_target("memwatch.stress.simulator:MemoryPressureSimulator.get_memory_usage")
        is MemoryPressureSimulator.get_memory_usage
    )


def test_simulator_with_injected_memory_source() -> None:
    readings = iter([10e6, 11e6])
    sim = MemoryPressureSimulator(memory_source=lambda: next(readings))
    assert len(sim.allocate_memory(1)) == 1_000_000
    assert len(sim.allocate_memory(0.5)) == 500_000
    assert sim.blocks == len(sim.allocations) == 2
    assert sim.allocated == 1_500_000
    assert sim.usage_details() == {"rss_mb": 10.0, "allocated_mb": 1.5, "blocks": 2.0}
    assert sim.get_memory_usage() == 11.0
    assert sim.release_memory(count=1) == 500_000
    assert sim.release_memory(5) == 1_000_000
    assert sim.release_memory() == 0
    assert sim.allocations == []


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), True, "5"])
def test_simulator_rejects_bad_sizes(bad: object) -> None:
    with pytest.raises(ConfigError):
        MemoryPressureSimulator().allocate_memory(bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        MemoryPressureSimulator().release_memory(-1)


@pytest.mark.parametrize(
    "kwargs", [{"levels_mb": ()}, {"levels_mb": (10, -1)}, {"cycles": 0}, {"limit": "12 parsecs"}]
)
def test_stress_tester_rejects_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        MemoryStressTester(**kwargs)  # type: ignore[arg-type]


def test_fake_cuda_raises_a_cuda_style_oom() -> None:
    device = FakeCuda(1000)
    device.allocate(600)
    with pytest.raises(FakeCudaOutOfMemoryError) as info:
        device.allocate(600)
    assert is_gpu_oom(info.value)
    assert "CUDA out of memory" in str(info.value)
    assert device.ooms == 1
    device.release()
    assert device.allocate(600) == 600
    allocator, reason = gpu_allocator(fake_total=10)
    assert isinstance(allocator, FakeCuda)
    assert reason == ""


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), True),
        (RuntimeError("cupy.cuda.memory.OutOfMemoryError: out of memory to allocate"), True),
        (MemoryError(), False),
        (RuntimeError("out of memory"), False),  # no device named: not a GPU error
        (ValueError("bad"), False),
    ],
)
def test_is_gpu_oom(exc: BaseException, expected: bool) -> None:
    assert is_gpu_oom(exc) is expected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1.0", 3600.0),
        ("0.5", 1800.0),
        ("2", 7200.0),
        ("30s", 30.0),
        ("10min", 600.0),
        ("1h", 3600.0),
    ],
)
def test_parse_hours(text: str, seconds: float) -> None:
    assert parse_hours(text) == seconds


@pytest.mark.parametrize("text", ["0", "-1", "soon", "5 parsecs"])
def test_parse_hours_rejects(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_hours(text)


def test_scenario_names() -> None:
    assert _scenario_names(()) == ["ramp"]
    assert _scenario_names(("spike", "all")) == ["spike", "ramp", "fragmentation", "concurrent", "soak"]
    with pytest.raises(ConfigError, match="unknown scenario"):
        _scenario_names(("boom",))


def test_stress_package_exports_resolve() -> None:
    import memwatch
    from memwatch import stress

    for name in stress.__all__:
        assert getattr(stress, name) is not None
    assert memwatch.MemoryStressTester is stress.MemoryStressTester
    assert memwatch.MemoryPressureSimulator is stress.MemoryPressureSimulator
    with pytest.raises(AttributeError):
        stress.nope


def test_a_cap_above_the_machine_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"limit 2\.0 GiB is more than this machine has \(1\.0 GiB\)"):
        prepare_cap(2 * 2**30, "rlimit", host_memory=2**30)
    assert prepare_cap(2**30, "rlimit", host_memory=2**30).limit == 2**30
    assert prepare_cap(2**30, "rlimit", host_memory=None).method == "rlimit"  # RAM unknown: not judged


def test_a_cap_above_what_is_available_now_is_refused() -> None:
    # the shared host of issue 14: 23.5 GiB of RAM, 20 GiB available, a 23 GiB cap
    with pytest.raises(ConfigError, match=r"limit 23\.0 GiB is more than is available now: 20\.0 GiB"):
        prepare_cap(23 * 2**30, "rlimit", host_memory=int(23.5 * 2**30), available=20 * 2**30)
    # the margin: 10% of what is available, at least 64 MiB
    with pytest.raises(ConfigError, match=r"margin of 204\.8 MiB"):
        prepare_cap(1900 * MiB, "rlimit", host_memory=None, available=2048 * MiB)
    assert prepare_cap(1800 * MiB, "rlimit", host_memory=None, available=2048 * MiB).limit == 1800 * MiB
    with pytest.raises(ConfigError, match=r"margin of 64\.0 MiB"):
        prepare_cap(100 * MiB, "rlimit", host_memory=None, available=150 * MiB)
    assert (
        prepare_cap(2**30, "rlimit", host_memory=None, available=None).limit == 2**30
    )  # unknown: not judged


def test_available_memory_is_at_most_what_the_machine_and_cgroup_have() -> None:
    import psutil

    from memwatch.probes.cgroup import read_cgroup
    from memwatch.stress.cap import available_memory

    available, source = available_memory()
    assert available is not None
    assert 0 < available <= psutil.virtual_memory().total
    assert source
    cg = read_cgroup()
    if cg.limit is not None:
        assert available <= cg.limit


def test_the_ballast_is_bounded() -> None:
    from memwatch.stress.cap import available_memory
    from memwatch.stress.tasks import MAX_BALLAST, _ballast, _vm_data

    available, _ = available_memory()
    assert available is not None
    big = _ballast({"ballast": 0.5, "limit": 64 * 2**30}, 9)
    assert 0 < big <= min(MAX_BALLAST, available // 2)
    # a small cap: half the room left under it (the cap less this process's data), as before
    small = _ballast({"ballast": 0.5, "limit": _vm_data() + 9 * 8 * MiB + 200 * MiB}, 9)
    assert 60 * MiB < small < 110 * MiB
    assert _ballast({"ballast": 0.0, "limit": 256 * MiB}, 9) == 0
