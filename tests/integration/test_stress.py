"""Real capped children (caps of 200-400 MiB): breaking points, recovery, crashes that still report.

Every allocation here happens in a child under a cap, so the test machine never
holds more than the cap per test (two xdist workers: well under 1 GiB).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import cast

import pytest

from memwatch.errors import UsageError
from memwatch.stress.child import run_child
from memwatch.stress.scenarios import StressOptions, run_scenario, run_stress
from memwatch.stress.seed import run_harness
from memwatch.stress.simulator import MemoryStressTester

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_DATA caps need Linux"),
]

MiB = 2**20
W = "memwatch.stress.workloads:"


@pytest.mark.slow
def test_ramp_finds_breaking_point_below_the_cap() -> None:
    cap = 256 * MiB
    # rlimit: the failure is a MemoryError (a cgroup cap would SIGKILL instead)
    result = run_scenario(
        "ramp",
        W + "hold",
        StressOptions(limit=cap, start=32, max_load=1000, relative=0.03, cap_method="rlimit"),
    )
    point, last_ok = result.metrics["breaking_point"], result.metrics["last_ok"]
    # hold(load) allocates load MB: the break comes below the cap, and not far below it
    # (the interpreter's own data is a few tens of MB).
    assert point * 1e6 <= cap
    assert last_ok * 1e6 > 0.6 * cap
    assert point - last_ok <= 0.03 * point
    assert result.passed
    failing = [t for t in result.trials if not t.ok]
    assert failing
    assert all("MemoryError" in t.error for t in failing)
    assert len(result.children) == len(result.trials) <= 12


def test_spike_recovers_and_a_leaky_spike_does_not() -> None:
    opts = StressOptions(limit=300 * MiB, load=100, repeats=2)
    good = run_scenario("spike", W + "spike", opts)
    assert good.passed, good.checks
    assert good.metrics["heap_recovery"] > 0.95
    assert good.metrics["native_recovery"] > 0.95
    assert good.metrics["heap_spike"] > 90e6  # the 100 MB were seen by tracemalloc
    assert good.metrics["rss_spike"] > 90e6
    leaky = run_scenario("spike", W + "leaky_spike", StressOptions(limit=300 * MiB, load=100))
    assert not leaky.passed
    assert 0.4 < leaky.metrics["heap_recovery"] < 0.6
    assert {c.name for c in leaky.failed_checks} == {"python heap recovery", "native heap recovery"}


def test_crashed_and_killed_children_still_report() -> None:
    for target, sig in (("crash", signal.SIGABRT), ("kill_self", signal.SIGKILL)):
        run = run_child("call", limit=200 * MiB, target=W + target, timeout=30)
        assert run.outcome.exit == "signal"
        assert run.outcome.signal == sig
        assert run.of("ready"), "the child reported before it died"
        assert run.result is None
        assert not run.outcome.completed
        assert run.outcome.error == f"killed by {sig.name}"
        assert run.outcome.peak_rss > 5 * MiB  # from wait4, even after the kill


def test_child_that_ignores_sigterm_is_killed_after_grace() -> None:
    started = time.monotonic()
    # ignored from exec on, so the outcome cannot depend on how fast the child starts
    run = run_child(
        "call", limit=200 * MiB, target=W + "ignore_sigterm", timeout=0.5, grace=0.5, ignore_sigterm=True
    )
    assert time.monotonic() - started < 10
    assert run.outcome.exit == "timeout"
    assert run.outcome.signal == signal.SIGKILL
    assert "SIGKILL" in run.outcome.error


def test_soak_killed_midway_keeps_its_samples() -> None:
    opts = StressOptions(limit=200 * MiB, load=1, duration=30, interval=0.05, timeout=30)
    result = run_scenario("soak", W + "die_after", opts)
    assert not result.passed
    assert result.children[0].signal == signal.SIGKILL
    assert result.checks[0].name == "child completed"
    assert len(result.samples) >= 5  # written as it went, before the SIGKILL
    assert result.children[0].wall_time < 20


def test_memory_error_and_raising_target_are_reported() -> None:
    run = run_child("call", limit=200 * MiB, target=W + "hold", args=(400,), timeout=30, cap_method="rlimit")
    assert run.outcome.exit_code == 10
    assert run.outcome.error.startswith("MemoryError")
    run = run_child("call", limit=200 * MiB, target=W + "raise_error", timeout=30)
    assert run.outcome.exit_code == 11
    assert "ValueError: raised on purpose" in run.outcome.error
    assert "Traceback" in str(run.error.get("traceback") if run.error else "")
    run = run_child("call", limit=200 * MiB, target=W + "fake_cuda_oom", timeout=30)
    assert "CUDA out of memory" in run.outcome.error


def test_bad_target_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no attribute"):
        run_scenario("spike", W + "no_such_workload", StressOptions(limit=200 * MiB))


def test_fragmentation_builtin_churn_returns_heap_to_baseline() -> None:
    result = run_scenario("fragmentation", "", StressOptions(limit=300 * MiB, cycles=3, size=10_000_000))
    heap = next(c for c in result.checks if c.name == "heap back to baseline")
    assert heap.status == "pass"
    assert abs(result.metrics["heap_growth"]) < 2 * MiB
    assert result.metrics["cycles"] == 3
    assert [s.label for s in result.samples][-1] == "after malloc_trim"
    # the churn frees everything: it passes, whatever the allocator keeps until malloc_trim
    assert result.passed, result.checks
    # fragmentation is RSS growth minus heap growth, by definition
    assert result.metrics["fragmentation"] == pytest.approx(
        result.metrics["rss_growth"] - result.metrics["heap_growth"]
    )


def test_concurrent_threads_and_asyncio() -> None:
    for target in ("steady", "async_steady"):
        result = run_scenario("concurrent", W + target, StressOptions(limit=200 * MiB, iterations=5))
        assert result.passed, result.checks
        assert result.metrics["completed"] == result.metrics["calls"] == 40
    squeezed = run_scenario(
        "concurrent",
        W + "hold",
        StressOptions(limit=200 * MiB, load=40, iterations=2, ballast=0.5, cap_method="rlimit"),
    )
    assert not squeezed.passed
    assert squeezed.metrics["memory_errors"] > 0
    assert squeezed.metrics["completed"] == squeezed.metrics["calls"]  # no hang, no crash


def test_soak_steady_passes_and_leak_fails() -> None:
    steady = run_scenario("soak", W + "steady", StressOptions(limit=200 * MiB, duration=1.5))
    assert steady.passed, steady.checks
    assert steady.metrics["samples"] >= 8  # ~27 expected; fewer on a loaded machine
    leak = run_scenario("soak", W + "leaky", StressOptions(limit=300 * MiB, load=1, duration=1.5))
    assert not leak.passed
    rate = next(c for c in leak.checks if c.name == "growth rate")
    assert rate.status == "fail"
    assert rate.value > 1e6


def test_memory_stress_tester_seed_api() -> None:
    result = MemoryStressTester(
        limit="256MiB", levels_mb=(64, 128, 512), cycles=2, cap_method="rlimit"
    ).test_memory_pressure_scenarios()
    assert result["breaking_point_reached"] is True
    assert result.breaking_point == 512_000_000
    assert len(result.cycles) == 4
    assert cast(float, result["stability_score"]) > 0.95  # >= 64 MB blocks are mmapped and given back whole


def test_harness_counts_fake_gpu_ooms() -> None:
    result = run_harness(
        duration=1.0, cpu=50_000_000, gpu=2_000_000_000, toggle=0.25, fake_gpu_total=1_500_000_000
    )
    assert result.passed, result.checks
    assert result.metrics["gpu_ooms"] >= 2
    assert result.metrics["gpu_allocations"] == 0
    assert result.metrics["stability_score"] > 0.95
    assert result.children[0].cap == 50_000_000 + 256 * MiB


def test_run_stress_report_lists_every_scenario() -> None:
    report = run_stress(W + "spike", ["spike", "concurrent"], StressOptions(limit=300 * MiB, load=5))
    assert [s.scenario for s in report.scenarios] == ["spike", "concurrent"]
    assert report.passed
    assert report.cap_method in ("rlimit", "cgroup")


def test_ramp_on_a_target_that_raises_is_no_breaking_point() -> None:
    result = run_scenario("ramp", W + "steady", StressOptions(limit=128 * MiB))  # steady() takes no load
    assert not result.passed
    assert result.checks[0].status == "fail"
    assert "not a memory failure" in result.checks[0].detail
    assert len(result.trials) == 1


def test_child_side_modules_stay_free_of_numpy() -> None:
    # the child's own data counts against its cap: numpy/scipy would cost tens of MiB
    code = (
        "import sys, memwatch.stress.worker, memwatch.stress.tasks, memwatch.stress.harness, "
        "memwatch.stress.workloads; print(sorted(m for m in ('numpy', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _cuda_reason() -> str:
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    return "" if torch.cuda.is_available() else "torch.cuda sees no GPU"


@pytest.mark.gpu
@pytest.mark.skipif(bool(_cuda_reason()), reason=_cuda_reason() or "GPU present")
def test_harness_real_gpu_pressure_and_oom() -> None:
    import torch

    total = torch.cuda.get_device_properties(0).total_memory
    fits = run_harness(duration=1.0, cpu=20_000_000, gpu=256 * MiB, toggle=0.25)
    assert fits.passed, fits.checks
    assert fits.metrics["gpu_allocations"] >= 2
    too_big = run_harness(duration=0.5, cpu=20_000_000, gpu=2 * total, toggle=0.25)
    assert too_big.metrics["gpu_ooms"] >= 1  # torch.cuda.OutOfMemoryError caught and counted


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as handle:
            state = next(line for line in handle if line.startswith("State:"))
    except (OSError, StopIteration):
        return False
    return "Z" not in state.split()[1]  # a zombie is dead, only not yet reaped


def test_what_the_child_started_ends_with_it(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    run = run_child("call", limit=200 * MiB, target=W + "spawn_grandchild", args=(str(pid_file),), timeout=30)
    assert run.outcome.completed
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def _children_of(ppid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == ppid:
            found.append(int(entry.name))
    return found


def test_a_killed_parent_leaves_no_child_behind() -> None:
    """`timeout 60 memwatch stress ...` or a SIGKILLed CI job must not leave the capped
    child running on its own: the kernel kills it with its parent (PR_SET_PDEATHSIG)."""
    code = (
        "from memwatch.stress.child import run_child\n"
        f"run_child('call', limit=200 * 2**20, target={W + 'ignore_sigterm'!r}, args=(60,),"
        " timeout=60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code])
    children: list[int] = []
    folder: Path | None = None
    try:
        deadline = time.monotonic() + 20
        while not children and time.monotonic() < deadline:
            time.sleep(0.05)
            children = _children_of(parent.pid)
        assert children, "the stress child never started"
        time.sleep(0.5)  # let it reach the user's code
        # the killed parent cannot remove its temporary folder: the test does
        spec = Path(f"/proc/{children[0]}/cmdline").read_bytes().split(b"\0")[-2].decode()
        folder = Path(spec).parent
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while any(_alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(c) for c in children)
    finally:
        parent.kill()
        parent.wait()
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if folder is not None and folder.name.startswith("memwatch-stress-"):
            shutil.rmtree(folder, ignore_errors=True)


def test_sigterm_to_memwatch_stress_kills_the_child_and_removes_its_folder() -> None:
    """A CI timeout's SIGTERM used to end `memwatch stress` at once: the temporary folder
    of the running child stayed in /tmp (and, before PDEATHSIG, the child kept running)."""
    parent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "memwatch.cli",
            "stress",
            W + "ignore_sigterm",
            "--scenario",
            "spike",
            "--load",
            "60",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    children: list[int] = []
    folder: Path | None = None
    try:
        deadline = time.monotonic() + 20
        while not children and time.monotonic() < deadline:
            time.sleep(0.05)
            children = _children_of(parent.pid)
        assert children, "the stress child never started"
        time.sleep(0.5)
        spec = Path(f"/proc/{children[0]}/cmdline").read_bytes().split(b"\0")[-2].decode()
        folder = Path(spec).parent
        assert folder.name.startswith("memwatch-stress-")
        assert folder.is_dir()
        parent.send_signal(signal.SIGTERM)
        _out, err = parent.communicate(timeout=20)
        assert parent.returncode == 130
        assert err.strip().splitlines()[-1] == "memwatch: interrupted"
        assert not folder.exists()
        assert not any(_alive(c) for c in children)
    finally:
        parent.kill()
        parent.communicate()
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if folder is not None and folder.name.startswith("memwatch-stress-"):
            shutil.rmtree(folder, ignore_errors=True)
