"""GPU probes through fake NVML and torch modules (real ones run under the `gpu` marker)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from memwatch.probes.gpu import nvml_devices, torch_memory


class FakeNvml:
    def __init__(self, devices: list[tuple[str, int, int]], fail: Exception | None = None) -> None:
        self.devices = devices
        self.fail = fail

    def nvmlInit(self) -> None:
        if self.fail is not None:
            raise self.fail

    def nvmlDeviceGetCount(self) -> int:
        return len(self.devices)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:
        _, used, total = self.devices[handle]
        return SimpleNamespace(used=used, total=total, free=total - used)

    def nvmlDeviceGetName(self, handle: int) -> bytes:
        return self.devices[handle][0].encode()


def test_nvml_reports_each_device() -> None:
    devices, reason = nvml_devices(FakeNvml([("H100", 10 * 2**30, 80 * 2**30), ("A10", 0, 24 * 2**30)]))
    assert reason == ""
    assert [(d.index, d.name, d.used, d.total) for d in devices] == [
        (0, "H100", 10 * 2**30, 80 * 2**30),
        (1, "A10", 0, 24 * 2**30),
    ]
    assert devices[0].fraction == pytest.approx(0.125)
    assert devices[1].free == 24 * 2**30


def test_nvml_failure_is_unavailable_with_reason() -> None:
    devices, reason = nvml_devices(FakeNvml([], fail=RuntimeError("Driver Not Loaded")))
    assert devices == []
    assert "Driver Not Loaded" in reason


def test_nvml_without_devices() -> None:
    assert nvml_devices(FakeNvml([])) == ([], "NVML sees no GPU")


def make_torch(available: bool) -> Any:
    cuda = SimpleNamespace(
        is_available=lambda: available,
        device_count=lambda: 2,
        memory_allocated=lambda i: 100 * (i + 1),
        memory_reserved=lambda i: 200 * (i + 1),
        max_memory_allocated=lambda i: 300 * (i + 1),
    )
    return SimpleNamespace(cuda=cuda)


def test_torch_memory_per_device() -> None:
    mem, reason = torch_memory(make_torch(True))
    assert reason == ""
    assert [(m.device, m.allocated, m.reserved, m.peak_allocated) for m in mem] == [
        (0, 100, 200, 300),
        (1, 200, 400, 600),
    ]


def test_torch_without_cuda_is_unavailable() -> None:
    mem, reason = torch_memory(make_torch(False))
    assert mem == []
    assert "not available" in reason


def test_torch_not_imported_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert torch_memory() == ([], "torch is not imported by this process")


@pytest.mark.gpu
def test_real_nvml_sees_a_gpu() -> None:
    devices, reason = nvml_devices()
    if not devices:
        pytest.skip(f"no GPU visible here: {reason}")
    assert all(d.total > 0 and 0 <= d.used <= d.total for d in devices)
