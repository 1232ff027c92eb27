"""Document 003's CUDA error recovery (/work/shared/seeds/003_*.txt, "3. CUDA Error Recovery").

``TestCUDAErrorRecovery::test_cuda_error_recovery``: error detected, recovery attempted, GPU
returns to an operational state; ``test_repeated_cuda_errors`` (3 errors): all handled, GPU
remains available, no permanent damage; an error the device does not recover from (an illegal
memory access) falls back to the CPU, as ``TestMultipleOOMHandling`` expects of repeated OOMs.
The document lists no code for them; these run ``oom_protected`` against
:class:`memwatch.guard.fakes.FakeTorch`, and with real torch (marked ``gpu``) where a GPU is
visible.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from memwatch import oom_protected
from memwatch.guard.cuda import classify_error, recover_device
from memwatch.guard.fakes import CUBLAS_ALLOC_FAILED, ILLEGAL_ACCESS, FakeCudaError, FakeTorch
from memwatch.model.guard import OomEvent


class TestCUDAErrorRecovery:
    def test_cuda_error_recovery(self) -> None:
        torch = FakeTorch()
        events: list[OomEvent] = []

        @oom_protected(fallbacks=["cpu"], torch=torch, on_oom=events.append)
        def transcribe(device: str = "cuda") -> str:
            return torch.matmul(device)

        torch.break_device("cublas", CUBLAS_ALLOC_FAILED)
        assert transcribe() == "cuda"  # detected, recovered, back on the GPU
        assert [e.action for e in events] == ["reset"]
        assert events[0].kind == "device"
        assert "CUBLAS_STATUS_ALLOC_FAILED" in events[0].message
        assert torch.calls[:4] == ["matmul", "synchronize", "empty_cache", "clear cuBLAS workspaces"]
        counters = transcribe.oom.metrics_data.as_dict()["counters"]
        assert counters == {"cuda_errors": 1.0, "device_resets": 1.0}
        assert transcribe.oom.current_option == "cuda"

    def test_repeated_cuda_errors(self) -> None:
        torch = FakeTorch()
        events: list[OomEvent] = []

        @oom_protected(fallbacks=["cpu"], torch=torch, on_oom=events.append)
        def transcribe(device: str = "cuda") -> str:
            return torch.matmul(device)

        for _ in range(3):  # an asynchronous error, reported by the next kernel
            torch.break_device("pending", "CUDA error: unspecified launch failure")
            assert transcribe() == "cuda"
        assert [(e.action, e.kind) for e in events] == [("reset", "device")] * 3
        counters = transcribe.oom.metrics_data.as_dict()["counters"]
        assert counters == {"cuda_errors": 3.0, "device_resets": 3.0}
        assert transcribe.oom.current_option == "cuda"  # GPU still in use
        assert torch.launches == 9  # three probes of two kernels each, and the three calls

    def test_unrecoverable_error_falls_back_to_cpu_and_stays(self) -> None:
        torch = FakeTorch()
        events: list[OomEvent] = []

        @oom_protected(fallbacks=["cpu"], torch=torch, on_oom=events.append)
        def transcribe(device: str = "cuda") -> str:
            return torch.matmul(device)

        torch.break_device("sticky", ILLEGAL_ACCESS)
        assert transcribe() == "cpu"
        assert [(e.action, e.option) for e in events] == [("sticky", "'cpu'")]
        assert (
            "device not recovered: AcceleratorError: CUDA error: an illegal memory access"
            in events[0].message
        )
        assert transcribe() == "cpu"  # later calls start on the CPU at once
        assert torch.calls.count("matmul") == 1
        counters = transcribe.oom.metrics_data.as_dict()["counters"]
        assert counters["device_lost"] == 1.0
        assert counters["oom_sticky"] == 1.0

    def test_without_a_fallback_the_error_is_raised_after_one_reset(self) -> None:
        torch = FakeTorch()

        @oom_protected(torch=torch)
        def transcribe(device: str = "cuda") -> str:
            return torch.matmul(device)

        torch.break_device("sticky", ILLEGAL_ACCESS)
        with pytest.raises(FakeCudaError, match="illegal memory access"):
            transcribe()
        torch.break_device("cublas", CUBLAS_ALLOC_FAILED)
        assert transcribe() == "cuda"  # recovered in place: no fallback needed


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (FakeCudaError(ILLEGAL_ACCESS), "device"),
        (RuntimeError(CUBLAS_ALLOC_FAILED), "device"),
        (RuntimeError("CUDA error: device-side assert triggered"), "device"),
        (RuntimeError("CUDA error: out of memory"), "gpu"),
        (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), "gpu"),
        (RuntimeError("cuDNN error: CUDNN_STATUS_ALLOC_FAILED"), "gpu"),
        (MemoryError(), "host"),
        (RuntimeError("out of memory"), None),
        (ValueError("CUDA error: an illegal memory access was encountered"), None),
        (RuntimeError("shape mismatch"), None),
    ],
)
def test_errors_are_classified_in_one_place(exc: BaseException, kind: str | None) -> None:
    assert classify_error(exc) == kind


def test_recover_device_without_torch_says_why() -> None:
    outcome = recover_device(FakeTorch(available=False))
    assert not outcome.healthy
    assert outcome.error == "torch.cuda is not available"


def _cuda_torch() -> object:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch.cuda is not available (no GPU visible)")
    return torch


@pytest.mark.gpu
def test_real_device_recovers_when_healthy() -> None:
    torch = _cuda_torch()
    outcome = recover_device(torch)
    assert outcome.healthy, outcome
    assert outcome.steps[0] == "synchronize"
    assert outcome.steps[-1] == "probe"


@pytest.mark.gpu
def test_real_device_side_assert_falls_back_to_cpu() -> None:
    _cuda_torch()
    # a device-side assert corrupts the CUDA context for the rest of the process: in a child
    script = textwrap.dedent(
        """
        import torch
        from memwatch import oom_protected

        @oom_protected(fallbacks=["cpu"])
        def gather(device="cuda"):
            x = torch.arange(4.0, device=device)
            index = torch.tensor([10**6 if device == "cuda" else 3], device=device)
            return float(x[index].sum().item())

        print("result", gather())
        print("option", gather.oom.current_option)
        print("counters", sorted(gather.oom.metrics_data.as_dict()["counters"].items()))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "result 3.0" in done.stdout
    assert "option cpu" in done.stdout
    assert "('device_lost', 1.0)" in done.stdout
