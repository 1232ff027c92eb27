"""The cgroup, PSI and budget probes against fake trees on disk with known answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from memwatch.probes.cgroup import CgroupReader
from memwatch.probes.psi import parse_pressure, read_pressure
from memwatch.probes.system import memory_budget

GiB = 2**30


def make_v2(tmp_path: Path, files: dict[str, str], membership: str = "0::/app/worker\n") -> CgroupReader:
    proc = tmp_path / "proc" / "self"
    proc.mkdir(parents=True)
    (proc / "cgroup").write_text(membership)
    fs = tmp_path / "cg"
    fs.mkdir()
    (fs / "cgroup.controllers").write_text("cpu memory\n")
    for rel, text in files.items():
        path = fs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return CgroupReader(proc_root=tmp_path / "proc", fs_root=fs)


def test_v2_own_limit_and_working_set(tmp_path: Path) -> None:
    reader = make_v2(
        tmp_path,
        {
            "app/worker/memory.max": f"{2 * GiB}\n",
            "app/worker/memory.high": "max\n",
            "app/worker/memory.current": f"{GiB}\n",
            "app/worker/memory.stat": f"anon 100\ninactive_file {256 * 2**20}\nactive_file 5\n",
            "app/worker/memory.events": "low 0\nhigh 3\nmax 1\noom 0\noom_kill 2\n",
            "app/worker/memory.pressure": "some avg10=1.00 avg60=0 avg300=0 total=5\n",
            "app/memory.max": "max\n",
        },
    )
    info = reader.read()
    assert info.version == 2
    assert info.limit == 2 * GiB
    assert info.limit_source.endswith("app/worker/memory.max")
    assert info.high is None
    assert info.working_set == GiB - 256 * 2**20
    assert info.events["oom_kill"] == 2
    assert info.events["high"] == 3
    assert info.pressure_file.endswith("app/worker/memory.pressure")


def test_v2_tighter_ancestor_limit_wins(tmp_path: Path) -> None:
    reader = make_v2(
        tmp_path,
        {
            "app/worker/memory.max": "max\n",
            "app/worker/memory.high": f"{3 * GiB}\n",
            "app/memory.max": f"{GiB}\n",
            "app/memory.high": f"{4 * GiB}\n",
            "app/worker/memory.current": "1000\n",
        },
    )
    info = reader.read()
    assert info.limit == GiB
    assert info.limit_source.endswith("app/memory.max")
    assert info.high == 3 * GiB
    budget = memory_budget(reader)
    assert (budget.limit, budget.source) == (GiB, "cgroup.v2.max")


def test_v2_only_memory_high_sets_the_budget(tmp_path: Path) -> None:
    reader = make_v2(
        tmp_path,
        {
            "app/worker/memory.max": "max\n",
            "app/worker/memory.high": f"{512 * 2**20}\n",
            "app/worker/memory.current": "1000\n",
        },
    )
    budget = memory_budget(reader)
    assert budget.limit == 512 * 2**20
    assert budget.source == "cgroup.v2.high"


def test_v2_root_group_has_no_limit_so_host_decides(tmp_path: Path) -> None:
    reader = make_v2(tmp_path, {"memory.stat": "inactive_file 0\n"}, membership="0::/\n")
    info = reader.read()
    assert info.limit is None
    budget = memory_budget(reader)
    assert budget.source in ("host", "rlimit")
    assert budget.limit > 0


def test_v1_hierarchy(tmp_path: Path) -> None:
    proc = tmp_path / "proc" / "self"
    proc.mkdir(parents=True)
    (proc / "cgroup").write_text("4:memory:/docker/abc\n1:cpu:/docker/abc\n")
    group = tmp_path / "cg" / "memory" / "docker" / "abc"
    group.mkdir(parents=True)
    (group / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (group / "memory.usage_in_bytes").write_text(f"{GiB}\n")
    (group / "memory.stat").write_text(
        f"total_inactive_file {100 * 2**20}\nhierarchical_memory_limit {3 * GiB}\n"
    )
    (group / "memory.failcnt").write_text("7\n")
    (group / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    info = CgroupReader(proc_root=tmp_path / "proc", fs_root=tmp_path / "cg").read()
    assert info.version == 1
    assert info.limit == 3 * GiB
    assert "hierarchical_memory_limit" in info.limit_source
    assert info.working_set == GiB - 100 * 2**20
    assert info.events == {"max": 7, "oom_kill": 1}


def test_unreadable_membership_says_why(tmp_path: Path) -> None:
    info = CgroupReader(proc_root=tmp_path / "none", fs_root=tmp_path).read()
    assert info.version is None
    assert "unreadable" in info.reason


def test_parse_pressure_known_values() -> None:
    text = (
        "some avg10=12.50 avg60=3.25 avg300=0.10 total=123456\n"
        "full avg10=1.00 avg60=0.50 avg300=0.00 total=999\n"
    )
    p = parse_pressure(text, "x")
    assert (p.some_avg10, p.some_avg60, p.some_avg300, p.some_total_us) == (12.5, 3.25, 0.1, 123456)
    assert (p.full_avg10, p.full_total_us) == (1.0, 999)
    assert p.available


def test_parse_pressure_without_some_line() -> None:
    p = parse_pressure("garbage\n", "x")
    assert not p.available
    assert "no 'some' line" in p.reason


def test_read_pressure_from_an_explicit_file(tmp_path: Path) -> None:
    path = tmp_path / "memory.pressure"
    path.write_text("some avg10=2.00 avg60=0 avg300=0 total=1\n")
    assert read_pressure(path).some_avg10 == 2.0
    missing = read_pressure(tmp_path / "nope")
    assert not missing.available
    assert "nope" in missing.reason


@pytest.mark.skipif(not Path("/proc/self/cgroup").exists(), reason="needs Linux /proc")
def test_real_machine_budget_is_positive_and_sourced() -> None:
    budget = memory_budget()
    assert budget.limit > 0
    assert budget.source in ("host", "rlimit") or budget.source.startswith("cgroup.")
