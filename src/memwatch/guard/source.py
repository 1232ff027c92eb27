"""Where the guard's numbers come from: the budget, the usage, PSI, memory.events, GPU.

The budget is what the process really has (:func:`memwatch.probes.system.memory_budget`):
the tightest cgroup ``memory.max``, else ``memory.high`` (own group and ancestors),
else ``RLIMIT_AS``/``RLIMIT_DATA``, else host memory; or a size given by the user
(``budget_source == "configured"``). Usage is measured in the unit the budget
limits:

- cgroup budget: the group's working set, ``memory.current`` minus ``inactive_file``
  (page cache the kernel can drop, as the kubelet counts it). ``memory.stat`` is
  costly to read, so ``inactive_file`` is refreshed every ``stat_interval`` seconds
  and the working set between refreshes uses the last value (it moves slowly);
- ``RLIMIT_AS``: the virtual size (VMS), which is what that limit counts;
- ``RLIMIT_DATA``: the data segment (``statm`` field 6);
- host or configured budget: the process RSS.

``usage="container"`` counts the whole container instead of this process: the cgroup
working set against a cgroup limit, else the host's used memory (total - available)
against the host total, which is what ``psutil.virtual_memory().percent`` reports
(``usage="host"`` forces the latter).

The budget is re-read every ``refresh`` seconds (limits can be changed live).
Any object with ``read() -> GuardSample`` and the ``budget_*``/``usage_source``
attributes can replace this source (see :class:`memwatch.guard.fakes.FakeSource`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

from memwatch.errors import ConfigError
from memwatch.model.guard import GuardSample
from memwatch.probes import gpu as gpu_probe
from memwatch.probes import process
from memwatch.probes.cgroup import CgroupReader, GroupFiles
from memwatch.probes.psi import PsiFile, PsiTrigger
from memwatch.probes.system import Budget, host_memory, memory_budget
from memwatch.units import parse_size

__all__ = ["USAGE_MODES", "MemorySource", "SystemSource", "gpu_usage"]

USAGE_MODES = ("auto", "cgroup", "rss", "vms", "data", "container", "host")
GpuReader = Callable[[], "tuple[int, int] | None"]


class MemorySource(Protocol):
    """What the guard reads; implemented by :class:`SystemSource` and the fakes."""

    budget_source: str
    budget_detail: str
    usage_source: str

    def read(self) -> GuardSample: ...

    def close(self) -> None: ...


def gpu_usage(nvml: object | None = None, torch: Any = None) -> tuple[int, int] | None:
    """(used, total) bytes of the fullest GPU: NVML, else torch.cuda.mem_get_info, else None.

    torch is only asked when the application already imported it.
    """
    devices, _reason = gpu_probe.nvml_devices(nvml)
    if devices:
        fullest = max(devices, key=lambda d: d.fraction)
        return fullest.used, fullest.total
    torch = torch if torch is not None else sys.modules.get("torch")
    if torch is None:
        return None
    try:
        if not torch.cuda.is_available():
            return None
        pairs = [torch.cuda.mem_get_info(i) for i in range(int(torch.cuda.device_count()))]
    except Exception:
        return None
    if not pairs:
        return None
    free, total = min(pairs, key=lambda ft: ft[0] / ft[1] if ft[1] else 1.0)
    return int(total - free), int(total)


class SystemSource:
    """The real source: cgroup/rlimit/host budget, usage, PSI, memory.events, GPU."""

    def __init__(
        self,
        *,
        budget: int | str | None = None,
        usage: str = "auto",
        reader: CgroupReader | None = None,
        psi: bool = True,
        psi_path: str | None = None,
        gpu: bool | GpuReader | None = None,
        gpu_interval: float = 1.0,
        refresh: float = 5.0,
        stat_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if usage not in USAGE_MODES:
            raise ConfigError(f"unknown usage mode {usage!r}; use one of {', '.join(USAGE_MODES)}")
        self._configured = None if budget is None else parse_size(budget)
        if self._configured is not None and self._configured <= 0:
            raise ConfigError(f"budget must be positive, got {budget!r}")
        self._reader = reader or CgroupReader()
        self._clock = clock
        self._refresh = refresh
        self._stat_interval = stat_interval
        self._gpu_interval = gpu_interval
        self._usage_mode = usage
        self._group: GroupFiles | None = None
        self._psi: PsiFile | None = None
        self._trigger: PsiTrigger | None = None
        self._inactive = 0
        self._stat_at = float("-inf")
        self._prev_events: dict[str, int] | None = None
        self._gpu_reader: GpuReader | None = None
        self._gpu_at = float("-inf")
        self._gpu_value: tuple[int, int] | None = None
        self.budget = 0
        self.budget_source = ""
        self.budget_detail = ""
        self.usage_source = ""
        self.psi_source = ""
        self.reasons: dict[str, str] = {}
        self._budget_at = float("-inf")
        self._setup(psi, psi_path)
        self._setup_gpu(gpu)

    # -- setup -----------------------------------------------------------------
    def _setup(self, psi: bool, psi_path: str | None) -> None:
        found = self._read_budget()
        cg = found.cgroup
        mode = self._usage_mode
        if mode == "container":
            mode = "cgroup" if found.source.startswith("cgroup") else "host"
        if mode == "auto":
            if self._configured is not None:
                mode = "rss"
            elif found.source.startswith("cgroup"):
                mode = "cgroup"
            elif found.source == "rlimit":
                mode = "vms" if found.detail == "RLIMIT_AS" else "data"
            else:
                mode = "rss"
        if mode == "cgroup" and (cg is None or not cg.directory):
            raise ConfigError(
                "usage 'cgroup' needs a readable memory cgroup: "
                + (cg.reason if cg is not None else "none found")
            )
        if cg is not None:
            self._group = GroupFiles(cg, usage=mode == "cgroup", events=True)
            if mode == "cgroup" and not self._group.has_usage:
                raise ConfigError(f"usage 'cgroup' cannot read {self._group.reasons['usage']}")
            if "events" in self._group.reasons:
                self.reasons["events"] = self._group.reasons["events"]
        if mode == "cgroup":
            assert self._group is not None
            self.usage_source = f"cgroup working set ({self._group.usage_name} - inactive_file)"
        else:
            self.usage_source = {
                "rss": "rss (/proc/self/statm)",
                "vms": "vms (/proc/self/statm)",
                "data": "data segment (/proc/self/statm)",
                "host": "host memory used (total - available)",
            }[mode]
        self._usage_mode = mode
        if mode == "host":
            self._read_budget()  # the host's total, whatever rlimit applies to this process
        if psi:
            path = psi_path or (cg.pressure_file if cg is not None and cg.pressure_file else "")
            psi_file = PsiFile(path or "/proc/pressure/memory")
            if psi_file.available:
                self._psi, self.psi_source = psi_file, psi_file.path
            else:
                self.reasons["psi"] = psi_file.reason

    def _setup_gpu(self, gpu: bool | GpuReader | None) -> None:
        if callable(gpu):
            self._gpu_reader = gpu
        elif gpu or gpu is None:
            if gpu_usage() is not None:
                self._gpu_reader = gpu_usage
            else:
                self.reasons["gpu"] = gpu_probe.nvml_devices()[1] or "no GPU"

    def _read_budget(self) -> Budget:
        found = memory_budget(self._reader)
        if self._configured is not None:
            self.budget, self.budget_source = self._configured, "configured"
            self.budget_detail = f"set by the caller ({self._configured} bytes)"
        elif self._usage_mode == "host":
            self.budget, self.budget_source = host_memory().total, "host"
            self.budget_detail = "psutil.virtual_memory().total"
        else:
            self.budget, self.budget_source, self.budget_detail = found.limit, found.source, found.detail
        self._budget_at = self._clock()
        return found

    # -- reading ---------------------------------------------------------------
    def psi_trigger(
        self, *, kind: str = "some", stall: float = 0.1, window: float = 2.0
    ) -> PsiTrigger | None:
        """Arm a PSI trigger on the pressure file this source reads (None without PSI)."""
        if self._psi is None:
            return None
        if self._trigger is None:
            self._trigger = PsiTrigger(self._psi.path, kind=kind, stall=stall, window=window)
            if not self._trigger.available:
                self.reasons["psi_trigger"] = self._trigger.reason
        return self._trigger if self._trigger.available else None

    def _usage(self, now: float) -> int:
        mode = self._usage_mode
        if mode == "cgroup":
            group = self._group
            assert group is not None
            if now - self._stat_at >= self._stat_interval:
                self._inactive = group.inactive_file() or 0
                self._stat_at = now
            current = group.usage()
            if current is not None:
                return max(0, current - self._inactive)
            return process.rss()
        if mode == "rss":
            return process.rss()
        if mode == "host":
            host = host_memory()
            return max(0, host.total - host.available)
        return process.vms() if mode == "vms" else process.data_size()

    def read(self) -> GuardSample:
        now = self._clock()
        if now - self._budget_at >= self._refresh:
            self._read_budget()
        usage = self._usage(now)
        some = full = None
        if self._psi is not None:
            some, full = self._psi.avg10()
        deltas: dict[str, int] = {}
        events = self._group.events() if self._group is not None else None
        if events is not None:
            prev = self._prev_events
            if prev is not None:
                deltas = {k: v - prev.get(k, 0) for k, v in events.items() if v != prev.get(k, 0)}
            self._prev_events = events
        gpu_used = gpu_total = None
        if self._gpu_reader is not None:
            if now - self._gpu_at >= self._gpu_interval:
                try:
                    self._gpu_value = self._gpu_reader()
                except Exception as exc:
                    self.reasons["gpu"] = f"{type(exc).__name__}: {exc}"
                    self._gpu_value = None
                self._gpu_at = now
            if self._gpu_value is not None:
                gpu_used, gpu_total = self._gpu_value
        return GuardSample(
            now,
            usage,
            self.budget,
            self.usage_source,
            self.budget_source,
            some,
            full,
            deltas,
            gpu_used,
            gpu_total,
        )

    def close(self) -> None:
        if self._group is not None:
            self._group.close()
        if self._psi is not None:
            self._psi.close()
        if self._trigger is not None:
            self._trigger.close()
