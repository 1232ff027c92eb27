"""GPU memory pressure for the stress harness: torch when present, a fake CUDA device for tests.

memwatch never imports torch on its own account: :func:`gpu_allocator` imports it
only when GPU pressure is asked for, and says "unavailable" (with the reason)
without torch or a CUDA device. :class:`FakeCuda` behaves like a small device
that raises :class:`FakeCudaOutOfMemoryError` ("CUDA out of memory. Tried to
allocate ...") once its capacity is used, so the out-of-memory paths run
everywhere. :func:`is_gpu_oom` recognises torch's, CuPy's and the fake's errors.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from memwatch.guard.cuda import classify_error  # standard library only (memwatch.guard loads lazily)

__all__ = ["FakeCuda", "FakeCudaOutOfMemoryError", "GpuAllocator", "gpu_allocator", "is_gpu_oom"]

MB = 10**6


class GpuAllocator(Protocol):
    name: str

    def allocate(self, nbytes: int) -> Any: ...

    def release(self) -> None: ...


class FakeCudaOutOfMemoryError(RuntimeError):
    """Raised by :class:`FakeCuda` like ``torch.cuda.OutOfMemoryError``."""


FakeCudaOutOfMemoryError.__name__ = "OutOfMemoryError"
FakeCudaOutOfMemoryError.__qualname__ = "OutOfMemoryError"


def is_gpu_oom(exc: BaseException) -> bool:
    """True for torch/CuPy/fake CUDA out-of-memory errors (by type name or message): the one
    classifier, :func:`memwatch.guard.cuda.classify_error`, says ``"gpu"``."""
    return classify_error(exc) == "gpu"


class FakeCuda:
    """A pretend device of ``total`` bytes: allocations are counted, nothing is allocated."""

    name = "fake-cuda"

    def __init__(self, total: int) -> None:
        self.total = total
        self.used = 0
        self.allocations = 0
        self.ooms = 0

    def allocate(self, nbytes: int) -> int:
        if self.used + nbytes > self.total:
            self.ooms += 1
            raise FakeCudaOutOfMemoryError(
                f"CUDA out of memory. Tried to allocate {nbytes / 2**20:.2f} MiB "
                f"(GPU 0; {self.total / 2**20:.2f} MiB total capacity; "
                f"{self.used / 2**20:.2f} MiB already allocated)"
            )
        self.used += nbytes
        self.allocations += 1
        return nbytes

    def release(self) -> None:
        self.used = 0


class _TorchCuda:
    name = "torch.cuda"

    def __init__(self, torch: Any) -> None:
        self.torch = torch
        self.held: list[Any] = []

    def allocate(self, nbytes: int) -> Any:
        tensor = self.torch.empty(nbytes, dtype=self.torch.uint8, device="cuda")
        tensor.fill_(1)  # touch it, as the CPU side does
        self.held.append(tensor)
        return tensor

    def release(self) -> None:
        self.held.clear()
        self.torch.cuda.empty_cache()


def gpu_allocator(fake_total: int | None = None) -> tuple[GpuAllocator | None, str]:
    """(allocator, reason): a fake device of ``fake_total`` bytes, else torch.cuda, else why not."""
    if fake_total is not None:
        return FakeCuda(fake_total), ""
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        return None, "torch is not installed"
    try:
        if not torch.cuda.is_available():
            return None, "torch.cuda is not available (no CUDA device or a CPU build)"
    except Exception as exc:
        return None, f"torch.cuda: {exc}"
    return _TorchCuda(torch), ""
