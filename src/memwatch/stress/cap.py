"""The memory cap a stress child runs under: a cgroup v2 group when writable, else RLIMIT_DATA.

RLIMIT_DATA (Linux >= 4.7) bounds the private writable mappings of the child, so
``malloc``/``mmap`` fail and Python raises ``MemoryError`` instead of the machine
running into the OOM killer. RLIMIT_AS is not used: it also counts the address
space glibc reserves for every thread's malloc arena (64 MiB each, PROT_NONE), so
it breaks thread creation long before memory is used. RLIMIT_DATA counts virtual
size, not resident pages: a cap of N bytes always holds, and a workload is cut off
at or before N bytes of data.

A cgroup v2 group caps resident memory instead (``memory.max``, ``memory.swap.max``
= 0). It is only used where the process's own group delegates the memory
controller to children (``cgroup.subtree_control`` lists ``memory``) and the
folder is writable; the kernel then kills the child inside its group, never
anything else. Paths are rooted at ``proc_root``/``fs_root`` so tests can use a
fake tree on disk.

A cap is checked against the machine's RAM and against what is available *now*
(:func:`available_memory`: ``MemAvailable``, and the room left under this process's
cgroup limit, its working set subtracted) less a margin of 10% (at least 64 MiB):
on a shared host a cap that the other tenants' memory leaves no room for would
protect nothing.
"""

from __future__ import annotations

import itertools
import os
import resource
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from memwatch.errors import ConfigError
from memwatch.probes.cgroup import membership
from memwatch.units import format_size

__all__ = [
    "Cap",
    "CapMethod",
    "apply_cap_in_child",
    "available_memory",
    "cgroup_parent",
    "physical_memory",
    "prepare_cap",
]

CapMethod = Literal["auto", "rlimit", "cgroup"]
_counter = itertools.count()
# Below this a Python interpreter cannot even start its stress worker.
MIN_CAP = 32 * 2**20
# What must stay free beside a cap: a fraction of what is available, at least MIN_MARGIN.
MARGIN = 0.10
MIN_MARGIN = 64 * 2**20
_UNSET: Any = object()


@dataclass(frozen=True)
class Cap:
    """A prepared cap: ``method`` is ``"rlimit"`` or ``"cgroup"`` (with ``cgroup`` its folder)."""

    limit: int
    method: Literal["rlimit", "cgroup"]
    cgroup: str = ""
    reason: str = ""

    def cleanup(self) -> None:
        """Remove the cgroup folder (the kernel refuses while a process is still inside)."""
        if self.cgroup:
            try:
                os.rmdir(self.cgroup)
            except OSError:
                pass


def cgroup_parent(
    *, proc_root: str | os.PathLike[str] = "/proc", fs_root: str | os.PathLike[str] = "/sys/fs/cgroup"
) -> tuple[Path | None, str]:
    """(folder under which a capped group can be made, reason when there is none)."""
    try:
        text = (Path(proc_root) / "self" / "cgroup").read_text()
    except OSError as exc:
        return None, f"cannot read /proc/self/cgroup ({exc.strerror or exc})"
    rel, _v1 = membership(text)
    if rel is None:
        return None, "not on cgroup v2"
    root = Path(fs_root)
    if not (root / "cgroup.controllers").exists():
        return None, f"no cgroup v2 mount at {root}"
    own = root / rel.strip().lstrip("/")
    try:
        delegated = (own / "cgroup.subtree_control").read_text().split()
    except OSError:
        return None, f"{own} is not readable"
    if "memory" not in delegated:
        return None, f"{own} does not delegate the memory controller to child groups"
    if not os.access(own, os.W_OK):
        return None, f"{own} is not writable"
    return own, ""


def physical_memory() -> int | None:
    """Bytes of RAM of this machine (None where the OS does not say)."""
    try:
        pages, page = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return pages * page if pages > 0 and page > 0 else None


def available_memory() -> tuple[int | None, str]:
    """(bytes this process can still get now, where that figure comes from).

    The smaller of ``MemAvailable`` and the room under the cgroup's limit (the
    tightest ``memory.max``/``memory.high`` on its path, less its working set).
    None when neither is known."""
    from memwatch.probes.cgroup import read_cgroup
    from memwatch.probes.system import host_memory

    found: list[tuple[int, str]] = []
    try:
        found.append((host_memory().available, "MemAvailable"))
    except Exception:  # psutil cannot say on this platform
        pass
    try:
        cg = read_cgroup()
    except OSError:
        cg = None
    if cg is not None:
        bound = min((v for v in (cg.limit, cg.high) if v is not None), default=None)
        used = cg.working_set
        if bound is not None and used is not None:
            found.append(
                (max(0, bound - used), f"cgroup limit {format_size(bound)} less {format_size(used)} in use")
            )
    if not found:
        return None, ""
    return min(found)


def margin_for(available: int) -> int:
    """The memory left free beside a cap when ``available`` bytes are available."""
    return max(MIN_MARGIN, int(available * MARGIN))


def prepare_cap(
    limit: int,
    method: CapMethod = "auto",
    *,
    proc_root: str | os.PathLike[str] = "/proc",
    fs_root: str | os.PathLike[str] = "/sys/fs/cgroup",
    host_memory: int | None = _UNSET,
    available: int | None = _UNSET,
) -> Cap:
    """Choose and set up the cap for one child; ConfigError for an unusable limit or method.

    A limit above the machine's RAM (``host_memory``, read when not given) is refused:
    it would cap nothing, and the child could push the machine into the OOM killer.
    So is a limit above what is available now less the margin (``available``, read
    with :func:`available_memory` when not given; None: not judged).
    """
    if limit < MIN_CAP:
        raise ConfigError(
            f"memory limit {format_size(limit)} is too small: a capped Python child "
            f"needs at least {format_size(MIN_CAP)}"
        )
    host = physical_memory() if host_memory is _UNSET else host_memory
    if host is not None and limit > host:
        raise ConfigError(
            f"memory limit {format_size(limit)} is more than this machine has "
            f"({format_size(host)}): it would not protect the machine from the OOM killer"
        )
    source = "given"
    if available is _UNSET:
        available, source = available_memory()
    if available is not None and limit > available - margin_for(available):
        room = max(0, available - margin_for(available))
        raise ConfigError(
            f"memory limit {format_size(limit)} is more than is available now: "
            f"{format_size(available)} ({source}) less a margin of {format_size(margin_for(available))} "
            f"leaves {format_size(room)}; use a smaller limit"
        )
    if method not in ("auto", "rlimit", "cgroup"):
        raise ConfigError(f"unknown cap method {method!r}: use auto, rlimit or cgroup")
    if method == "rlimit":
        return Cap(limit, "rlimit", reason="asked for")
    parent, reason = cgroup_parent(proc_root=proc_root, fs_root=fs_root)
    if parent is not None:
        group = parent / f"memwatch-stress-{os.getpid()}-{next(_counter)}"
        try:
            group.mkdir()
            (group / "memory.max").write_text(f"{limit}\n")
            swap = group / "memory.swap.max"
            if swap.exists():
                swap.write_text("0\n")
            return Cap(limit, "cgroup", cgroup=str(group))
        except OSError as exc:
            reason = f"cannot set up {group}: {exc.strerror or exc}"
            Cap(limit, "cgroup", cgroup=str(group)).cleanup()
    if method == "cgroup":
        raise ConfigError(f"cannot cap with a cgroup here: {reason}")
    return Cap(limit, "rlimit", reason=reason)


def apply_cap_in_child(limit: int, cgroup: str = "") -> str:
    """Run in the child before the user's code: join the cgroup, else set RLIMIT_DATA.

    Returns the method that took effect (``"cgroup"`` or ``"rlimit"``).
    """
    if cgroup:
        try:
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as handle:
                handle.write(f"{os.getpid()}\n")
            return "cgroup"
        except OSError:
            pass
    _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    return "rlimit"
