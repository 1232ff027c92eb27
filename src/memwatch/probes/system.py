"""The host's memory and the budget this process really has.

The budget comes, in order, from the cgroup's hard limit (``memory.max``), its
``memory.high``, ``RLIMIT_AS``/``RLIMIT_DATA``, else the host's total memory; the
result says which source decided. Usage comes from the cgroup working set where
there is a limit, else the process's RSS.
"""

from __future__ import annotations

import platform
import resource
from dataclasses import dataclass

import psutil

from memwatch.probes.cgroup import CgroupInfo, CgroupReader

__all__ = ["Budget", "HostMemory", "cpu_model", "host_memory", "memory_budget"]


@dataclass(frozen=True)
class HostMemory:
    total: int
    available: int
    used: int
    percent: float


def host_memory() -> HostMemory:
    """The machine's memory from psutil. Inside a container this is the *host*."""
    vm = psutil.virtual_memory()
    return HostMemory(
        total=int(vm.total), available=int(vm.available), used=int(vm.used), percent=float(vm.percent)
    )


@dataclass(frozen=True)
class Budget:
    """How many bytes this process may use and who said so."""

    limit: int
    source: str  # "cgroup.max", "cgroup.high", "rlimit", "host"
    detail: str
    high: int | None = None
    cgroup: CgroupInfo | None = None


def memory_budget(reader: CgroupReader | None = None) -> Budget:
    """The tightest memory limit that applies to this process, with its source."""
    cg = (reader or CgroupReader()).read()
    if cg.limit is not None:
        return Budget(cg.limit, f"cgroup.v{cg.version}.max", cg.limit_source, cg.high, cg)
    if cg.high is not None:
        return Budget(cg.high, f"cgroup.v{cg.version}.high", cg.high_source, cg.high, cg)
    for name in ("RLIMIT_AS", "RLIMIT_DATA"):
        kind = getattr(resource, name, None)
        if kind is None:
            continue
        soft, _hard = resource.getrlimit(kind)
        if soft != resource.RLIM_INFINITY and soft > 0:
            return Budget(int(soft), "rlimit", name, None, cg)
    return Budget(host_memory().total, "host", "psutil.virtual_memory().total", None, cg)


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what :mod:`platform` knows, else ""."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or ""
