"""Test doubles for the guard: a memory source and a clock that tests drive by hand.

They let a test (yours or memwatch's) walk the guard through warning, critical
and emergency without allocating anything, and :class:`FakeTorch` gives
``oom_protected`` a CUDA device to break (:meth:`FakeTorch.break_device`)::

    clock = FakeClock()
    source = FakeSource(budget=1000, usage=100, clock=clock)
    guard = MemoryGuard(source=source, clock=clock)
    source.usage = 900; guard.check()      # -> critical
"""

from __future__ import annotations

import os
import select
import threading

from memwatch.model.guard import GuardSample
from memwatch.probes.psi import drain
from memwatch.units import parse_size

__all__ = [
    "CUBLAS_ALLOC_FAILED",
    "ILLEGAL_ACCESS",
    "FakeClock",
    "FakeCudaError",
    "FakeSource",
    "FakeTorch",
    "FakeTrigger",
]

ILLEGAL_ACCESS = "CUDA error: an illegal memory access was encountered"
CUBLAS_ALLOC_FAILED = "CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`"


class FakeClock:
    """A monotonic clock that moves only when told: ``clock()`` and ``clock.advance(s)``."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self.now += seconds
            return self.now


class FakeTrigger:
    """A PSI trigger a test fires by hand: :meth:`fire` wakes the guard thread at once."""

    def __init__(self) -> None:
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        self.available = True
        self.fired_count = 0

    def fire(self) -> None:
        os.write(self._w, b"!")

    def fired(self, timeout: float = 0.0, wake_fd: int | None = None) -> bool:
        fds = [self._r] if wake_fd is None else [self._r, wake_fd]
        ready, _w, _x = select.select(fds, [], [], max(0.0, timeout))
        if wake_fd in ready:
            drain(wake_fd)
        if self._r in ready:
            drain(self._r)
            self.fired_count += 1
            return True
        return False

    def close(self) -> None:
        if self.available:
            self.available = False
            os.close(self._r)
            os.close(self._w)


class FakeSource:
    """A memory source whose numbers are plain attributes the test sets.

    ``events`` are cumulative ``memory.events``-style counters; each :meth:`read`
    reports their increase since the previous read, like the real source.
    ``reads`` counts the reads (the guard re-reads after every ladder step).
    """

    def __init__(
        self,
        budget: int | str = 1 << 30,
        usage: int | str = 0,
        *,
        clock: FakeClock | None = None,
        psi_some: float | None = None,
        psi_full: float | None = None,
        gpu_used: int | None = None,
        gpu_total: int | None = None,
        budget_source: str = "fake",
        usage_source: str = "fake",
    ) -> None:
        self.budget = parse_size(budget)
        self.usage = parse_size(usage)
        self.clock = clock
        self.psi_some = psi_some
        self.psi_full = psi_full
        self.gpu_used = gpu_used
        self.gpu_total = gpu_total
        self.budget_source = budget_source
        self.budget_detail = "set by a test"
        self.usage_source = usage_source
        self.events: dict[str, int] = {}
        self._seen: dict[str, int] = {}
        self.reads = 0
        self.fail_next: BaseException | None = None
        self.trigger: FakeTrigger | None = None

    def psi_trigger(self, **_options: float | str) -> FakeTrigger | None:
        """The trigger the guard thread waits on (None: the guard polls)."""
        return self.trigger

    def set_fraction(self, fraction: float) -> None:
        """Set usage to ``fraction`` of the budget."""
        self.usage = round(self.budget * fraction)

    def read(self) -> GuardSample:
        self.reads += 1
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc
        deltas = {k: v - self._seen.get(k, 0) for k, v in self.events.items() if v != self._seen.get(k, 0)}
        self._seen = dict(self.events)
        now = self.clock() if self.clock is not None else float(self.reads)
        return GuardSample(
            now,
            self.usage,
            self.budget,
            self.usage_source,
            self.budget_source,
            self.psi_some,
            self.psi_full,
            deltas,
            self.gpu_used,
            self.gpu_total,
        )

    def close(self) -> None:
        return None


class FakeCudaError(RuntimeError):
    """What torch raises for a CUDA error (``torch.AcceleratorError``, a RuntimeError)."""


FakeCudaError.__name__ = FakeCudaError.__qualname__ = "AcceleratorError"


class _FakeTensor:
    def __init__(self, torch: FakeTorch, device: str) -> None:
        self.torch = torch
        self.device = device

    def add_(self, _value: float) -> _FakeTensor:
        if self.device == "cuda":
            self.torch._launch("add_")
        return self


class _FakeCuda:
    def __init__(self, torch: FakeTorch) -> None:
        self._torch = torch

    def is_available(self) -> bool:
        return self._torch.available

    def synchronize(self) -> None:
        self._torch.calls.append("synchronize")
        self._torch._raise_pending()

    def empty_cache(self) -> None:
        self._torch.calls.append("empty_cache")
        if self._torch.state == "sticky":
            self._torch._raise_pending()


class _FakeC:
    def __init__(self, torch: FakeTorch) -> None:
        self._torch = torch

    def _cuda_clearCublasWorkspaces(self) -> None:
        self._torch.calls.append("clear cuBLAS workspaces")
        if self._torch.state == "sticky":
            self._torch._raise_pending()
        if self._torch.state == "cublas":
            self._torch.state, self._torch.error = "ok", ""


class FakeTorch:
    """A ``torch`` with one CUDA device a test breaks by hand (pass it as ``torch=``).

    :meth:`break_device` puts an error on it: ``"pending"`` (the next kernel or
    ``synchronize`` raises it once, then the device works: an asynchronous error
    reported at the next call), ``"cublas"`` (every kernel raises ``CUBLAS_STATUS_ALLOC_FAILED`` until
    cuBLAS's workspaces are cleared) or ``"sticky"`` (every CUDA call raises it: an
    illegal memory access corrupts the context for the rest of the process).
    ``calls`` lists the CUDA calls made; ``launches`` counts the kernels that ran.
    """

    def __init__(self, available: bool = True) -> None:
        self.available = available
        self.cuda = _FakeCuda(self)
        self._C = _FakeC(self)
        self.calls: list[str] = []
        self.launches = 0
        self.state = "ok"
        self.error = ""

    def break_device(self, how: str = "sticky", message: str = ILLEGAL_ACCESS) -> None:
        if how not in ("pending", "cublas", "sticky"):
            raise ValueError(f"how must be pending, cublas or sticky, not {how!r}")
        self.state, self.error = how, message

    def _raise_pending(self) -> None:
        if self.state in ("pending", "sticky"):
            error = FakeCudaError(self.error)
            if self.state == "pending":
                self.state, self.error = "ok", ""
            raise error

    def _launch(self, name: str) -> None:
        self.calls.append(name)
        self._raise_pending()
        if self.state == "cublas":
            raise FakeCudaError(self.error)
        self.launches += 1

    def ones(self, _n: int, device: str = "cpu") -> _FakeTensor:
        if device == "cuda":
            self._launch("ones")
        return _FakeTensor(self, device)

    def matmul(self, device: str = "cuda") -> str:
        """A pretend kernel on ``device``: raises the device's error while it has one."""
        if device == "cuda":
            self._launch("matmul")
        return device
