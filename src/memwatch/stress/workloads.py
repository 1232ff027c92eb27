"""Ready-made targets for ``memwatch stress``: demonstrations and fault injection.

Sizes are MB (10**6 bytes). Use them to try the command, or in tests::

    memwatch stress memwatch.stress.workloads:hold --scenario ramp --limit 256MiB
    memwatch stress memwatch.stress.workloads:spike --load 100 --scenario spike

The fault injectors (``ignore_sigterm``, ``crash``, ``kill_self``, ``raise_error``,
``fake_cuda_oom``) misbehave on purpose so the harness's recovery paths can be tested.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

from memwatch.stress.gpu import FakeCuda
from memwatch.stress.measure import touch
from memwatch.stress.tasks import churn as _churn

__all__ = [
    "async_steady",
    "churn",
    "crash",
    "die_after",
    "fake_cuda_oom",
    "hold",
    "ignore_sigterm",
    "kill_self",
    "leaky",
    "leaky_spike",
    "raise_error",
    "slow_leak",
    "spawn_grandchild",
    "spike",
    "steady",
]

MB = 10**6
_KEPT: list[object] = []


def hold(mb: int = 100) -> bytearray:
    """Allocate ``mb`` MB, touch every page and return it (a ramp's load is ``mb``)."""
    return touch(bytearray(int(mb) * MB))


def spike(mb: int = 100) -> bytearray:
    """A spike that is given back: the caller drops the returned buffer."""
    return hold(mb)


def leaky_spike(mb: int = 100) -> bytearray:
    """A spike that keeps half of itself in a module global (recovery about 50%)."""
    _KEPT.append(hold(int(mb) // 2))
    return hold(int(mb) - int(mb) // 2)


def churn(mb: int = 50) -> None:
    """Allocate ``mb`` MB in small objects, punch holes, free them all (one fragmentation cycle)."""
    _churn(int(mb) * MB)


def steady() -> int:
    """A call that allocates and frees a little and keeps nothing."""
    return len([str(i) for i in range(2000)])


def leaky(kb: int = 100) -> None:
    """Keep ``kb`` kB per call forever (a soak sees it grow)."""
    _KEPT.append(touch(bytearray(int(kb) * 1000)))


def slow_leak(kb: int = 5) -> None:
    """Keep ``kb`` kB per call and sleep 10 ms: at most ``kb`` x 100 kB/s of growth."""
    _KEPT.append(touch(bytearray(int(kb) * 1000)))
    time.sleep(0.01)


async def async_steady() -> int:
    """A coroutine that allocates a little, yields, and keeps nothing."""
    data = [str(i) for i in range(1000)]
    await asyncio.sleep(0)
    return len(data)


def ignore_sigterm(seconds: float = 3600.0) -> None:
    """Ignore SIGTERM and sleep: only SIGKILL ends it."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(float(seconds))


def crash() -> None:
    """Abort the interpreter (SIGABRT), as a C extension's failed assertion would."""
    os.abort()


def kill_self() -> None:
    """Die by SIGKILL, as the kernel's OOM killer would end a process."""
    os.kill(os.getpid(), signal.SIGKILL)


_FIRST_CALL: list[float] = []


def die_after(seconds: float = 1.0) -> None:
    """Sleep 10 ms per call; SIGKILL the process once ``seconds`` have passed since the first call."""
    now = time.monotonic()
    if not _FIRST_CALL:
        _FIRST_CALL.append(now)
    if now - _FIRST_CALL[0] >= float(seconds):
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.01)


def spawn_grandchild(pid_file: str) -> None:
    """Start ``sleep 600`` in the background, write its pid to ``pid_file`` and return."""
    import subprocess

    proc = subprocess.Popen(["sleep", "600"])
    with open(pid_file, "w") as handle:
        handle.write(str(proc.pid))


def raise_error() -> None:
    """Raise an ordinary exception from the user's code."""
    raise ValueError("raised on purpose by memwatch.stress.workloads:raise_error")


def fake_cuda_oom(mb: int = 2000, capacity_mb: int = 1000) -> None:
    """Raise a CUDA-style out-of-memory error from a fake device of ``capacity_mb`` MB."""
    FakeCuda(int(capacity_mb) * MB).allocate(int(mb) * MB)
