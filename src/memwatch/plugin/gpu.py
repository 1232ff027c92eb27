"""Whether a GPU is visible to this process (for the ``gpu`` marker's skip reason)."""

from __future__ import annotations

import os

__all__ = ["gpu_unavailable_reason"]


def gpu_unavailable_reason() -> str:
    """Empty when a GPU is visible, else why not (NVML first, then torch when already imported)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return f"CUDA_VISIBLE_DEVICES={visible!r} hides every GPU"
    from memwatch.probes.gpu import nvml_devices, torch_memory

    devices, reason = nvml_devices()
    if devices:
        return ""
    torch_devices, _ = torch_memory()
    if torch_devices:
        return ""
    return reason or "no GPU found"
