"""GPU memory: NVML per device (``nvidia-ml-py``, the ``gpu`` extra) and torch.cuda.

torch is only read when the application has already imported it (memwatch never
imports torch itself). Without a GPU, driver or library every reading says
"unavailable" with the reason. The libraries can be injected for tests.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

__all__ = ["GpuDevice", "TorchMemory", "nvml_devices", "torch_memory"]


@dataclass(frozen=True)
class GpuDevice:
    index: int
    name: str
    used: int
    total: int
    source: str = "nvml"

    @property
    def free(self) -> int:
        return self.total - self.used

    @property
    def fraction(self) -> float:
        return self.used / self.total if self.total else 0.0


@dataclass(frozen=True)
class TorchMemory:
    device: int
    allocated: int
    reserved: int
    peak_allocated: int


def _import_nvml() -> tuple[Any | None, str]:
    try:
        import pynvml
    except ImportError:
        return None, "nvidia-ml-py is not installed (pip install 'memwatch[gpu]')"
    return pynvml, ""


_nvml_ready: bool = False


def nvml_devices(nvml: Any | None = None) -> tuple[list[GpuDevice], str]:
    """(devices, reason): every GPU NVML sees with used/total bytes; reason when none."""
    global _nvml_ready
    injected = nvml is not None
    if nvml is None:
        nvml, reason = _import_nvml()
        if nvml is None:
            return [], reason
    try:
        if injected or not _nvml_ready:
            nvml.nvmlInit()
            if not injected:
                _nvml_ready = True
        count = int(nvml.nvmlDeviceGetCount())
        devices = []
        for index in range(count):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            mem = nvml.nvmlDeviceGetMemoryInfo(handle)
            name = nvml.nvmlDeviceGetName(handle)
            if isinstance(name, bytes):
                name = name.decode(errors="replace")
            devices.append(GpuDevice(index, str(name), int(mem.used), int(mem.total)))
    except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
        return [], f"NVML: {exc or type(exc).__name__}"
    if not devices:
        return [], "NVML sees no GPU"
    return devices, ""


def torch_memory(torch: ModuleType | Any | None = None) -> tuple[list[TorchMemory], str]:
    """(per-device torch.cuda figures, reason): only when torch is already imported."""
    if torch is None:
        torch = sys.modules.get("torch")
        if torch is None:
            return [], "torch is not imported by this process"
    try:
        cuda = torch.cuda
        if not cuda.is_available():
            return [], "torch.cuda is not available (no CUDA device or CPU build)"
        out = [
            TorchMemory(
                i,
                int(cuda.memory_allocated(i)),
                int(cuda.memory_reserved(i)),
                int(cuda.max_memory_allocated(i)),
            )
            for i in range(int(cuda.device_count()))
        ]
    except Exception as exc:
        return [], f"torch.cuda: {exc}"
    return out, ""
