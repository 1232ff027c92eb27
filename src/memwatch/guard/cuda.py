"""What an exception says about memory, in one place, and putting a CUDA device back in order.

:func:`classify_error` sorts an exception into ``"host"`` (``MemoryError``), ``"gpu"``
(the device ran out of memory: ``torch.cuda.OutOfMemoryError``, CuPy's, a ``RuntimeError``
saying ``out of memory`` beside ``CUDA``/``GPU``/``HIP``, or naming an allocation failure), ``"device"`` (a CUDA error that
is not out of memory and leaves the device in a bad state: an illegal memory access, a
device-side assert, ``CUBLAS_STATUS_ALLOC_FAILED`` when cuBLAS cannot create its handle or
workspace, a launch failure) or None (anything else: not memwatch's business). Matched by
class name and message, so torch and CuPy need not be installed.

:func:`recover_device` does what torch allows after a ``"device"`` error: synchronise (which
raises again while the error is pending), empty the caching allocator, drop cuBLAS's handles
and workspaces so they are created afresh, then prove the device works with a one-element
computation. Some errors (an illegal memory access, a device-side assert) corrupt the CUDA
context for the rest of the process; no call can re-initialise it, the probe fails and the
caller falls back (to the CPU). torch is never imported here: the one the application
imported (``sys.modules``) is used, or the one passed in (tests pass fakes:
:class:`memwatch.guard.fakes.FakeTorch`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["DeviceRecovery", "ErrorKind", "classify_error", "recover_device"]

ErrorKind = Literal["host", "gpu", "device"]

_OOM_NAMES = frozenset({"OutOfMemoryError", "OutOfMemoryErrorCUDA"})
#: messages of a device out of memory (checked before the device errors: "CUDA error: out of memory")
_OOM_MARKERS = (
    "cudaerrormemoryallocation",
    "cudnn_status_alloc_failed",
    "cuda_error_out_of_memory",
    "hiperroroutofmemory",
)
#: "out of memory" counts for a device only beside one of these (a bare one names no device)
_DEVICE_WORDS = ("cuda", "cupy", "gpu", "hip", "device")
#: messages of a CUDA error that leaves the device (or a library's handle on it) in a bad state
_DEVICE_MARKERS = (
    "cuda error",
    "cudaerror",
    "cuda_error_",
    "cublas_status_",
    "cudnn_status_",
    "cusolver_status_",
    "cufft_",
    "illegal memory access",
    "device-side assert",
    "unspecified launch failure",
    "misaligned address",
    "hip error",
    "hiperror",
)
#: exception classes of CUDA libraries whose messages are judged (besides RuntimeError)
_CUDA_CLASS_NAMES = frozenset(
    {"AcceleratorError", "CUDARuntimeError", "CUDADriverError", "CuDNNError", "CUBLASError", "CUDAError"}
)


def classify_error(exc: BaseException) -> ErrorKind | None:
    """``"host"``, ``"gpu"``, ``"device"`` or None; see the module docstring."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & _OOM_NAMES:
        return "gpu"
    if isinstance(exc, MemoryError):
        return "host"
    if not isinstance(exc, RuntimeError) and not names & _CUDA_CLASS_NAMES:
        return None
    text = str(exc).lower()
    if "out of memory" in text and any(word in text for word in _DEVICE_WORDS):
        return "gpu"
    if any(marker in text for marker in _OOM_MARKERS):
        return "gpu"
    if any(marker in text for marker in _DEVICE_MARKERS):
        return "device"
    return None


@dataclass(frozen=True)
class DeviceRecovery:
    """What :func:`recover_device` did (``steps``, in order) and whether the device works now.

    ``error`` is the first failure met (the synchronise or the probe), ``""`` when none."""

    healthy: bool
    steps: tuple[str, ...]
    error: str = ""


def _text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:200]


def recover_device(torch: Any = None) -> DeviceRecovery:
    """Synchronise, empty the cache, re-create cuBLAS's handles, then probe the device."""
    torch = torch if torch is not None else sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None) if torch is not None else None
    if cuda is None:
        return DeviceRecovery(False, (), "torch is not loaded: nothing to recover with")
    try:
        available = bool(cuda.is_available())
    except Exception as exc:
        return DeviceRecovery(False, (), _text(exc))
    if not available:
        return DeviceRecovery(False, (), "torch.cuda is not available")
    steps: list[str] = []
    error = ""
    try:
        cuda.synchronize()
        steps.append("synchronize")
    except Exception as exc:  # the pending error surfaces here
        steps.append("synchronize failed")
        error = _text(exc)
    try:
        cuda.empty_cache()
        steps.append("empty_cache")
    except Exception as exc:
        error = error or _text(exc)
    clear = getattr(getattr(torch, "_C", None), "_cuda_clearCublasWorkspaces", None)
    if clear is not None:
        try:
            clear()
            steps.append("clear cuBLAS workspaces")
        except Exception as exc:
            error = error or _text(exc)
    try:
        probe = torch.ones(1, device="cuda")
        probe.add_(1)
        cuda.synchronize()
        steps.append("probe")
    except Exception as exc:
        return DeviceRecovery(False, (*steps, "probe failed"), _text(exc))
    return DeviceRecovery(True, tuple(steps), error)
