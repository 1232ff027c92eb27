"""The memory budget a process really has, from its control group.

Inside a container ``psutil.virtual_memory()`` reports the *host*; the budget is
the cgroup's. cgroup v2: the process's own group (from ``/proc/self/cgroup``) and
every ancestor may set ``memory.max`` / ``memory.high``; the tightest one binds.
Usage is the working set: ``memory.current`` minus ``inactive_file`` (page cache
the kernel can drop), as the kubelet counts it. cgroup v1 (``memory`` controller)
is read as a fallback: ``memory.limit_in_bytes``, ``hierarchical_memory_limit``
and ``memory.usage_in_bytes`` minus ``total_inactive_file``.

Every path is rooted at ``proc_root`` and ``fs_root`` so tests can point the
reader at a fake tree on disk. :class:`GroupFiles` keeps a group's usage, ``memory.stat``
and ``memory.events`` open for readings every few milliseconds (the guard's);
:func:`parse_keyed` is the one parser of the ``key value`` files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from memwatch.probes.kept import KeptFile

__all__ = ["CgroupInfo", "CgroupReader", "GroupFiles", "membership", "parse_keyed", "read_cgroup"]

# v1 reports "no limit" as a huge page-aligned number; anything above this is unlimited.
_UNLIMITED = 2**62


@dataclass(frozen=True)
class CgroupInfo:
    """What the control group says about memory; None where it says nothing.

    ``limit`` is the tightest ``memory.max`` on the path to the root (hard limit),
    ``high`` the tightest ``memory.high`` (throttling starts there), ``limit_source``
    the file that set ``limit``.
    """

    version: int | None
    path: str
    limit: int | None = None
    limit_source: str = ""
    high: int | None = None
    high_source: str = ""
    current: int | None = None
    inactive_file: int | None = None
    events: dict[str, int] = field(default_factory=dict)
    pressure_file: str = ""
    reason: str = ""
    directory: str = ""  # the group's own folder (where memory.current / usage_in_bytes live)

    @property
    def working_set(self) -> int | None:
        if self.current is None:
            return None
        return max(0, self.current - (self.inactive_file or 0))


class CgroupReader:
    """Finds the process's control group and reads its memory files."""

    def __init__(
        self,
        *,
        proc_root: str | os.PathLike[str] = "/proc",
        fs_root: str | os.PathLike[str] = "/sys/fs/cgroup",
        pid: int | str = "self",
    ) -> None:
        self.proc_root = Path(proc_root)
        self.fs_root = Path(fs_root)
        self.pid = pid

    def _membership(self) -> tuple[str | None, str | None]:
        """(v2 path, v1 memory path) from /proc/<pid>/cgroup."""
        try:
            text = (self.proc_root / str(self.pid) / "cgroup").read_text()
        except OSError:
            return None, None
        return membership(text)

    def _v2_mount(self) -> Path | None:
        for candidate in (self.fs_root, self.fs_root / "unified"):
            if (candidate / "cgroup.controllers").exists():
                return candidate
        return None

    def read(self) -> CgroupInfo:
        v2_path, v1_path = self._membership()
        if v2_path is None and v1_path is None:
            return CgroupInfo(None, "", reason=f"{self.proc_root}/{self.pid}/cgroup is unreadable")
        mount = self._v2_mount()
        if v2_path is not None and mount is not None:
            info = self._read_v2(mount, v2_path)
            if info.current is not None or info.limit is not None or v1_path is None:
                return info
        if v1_path is not None and (self.fs_root / "memory").is_dir():
            return self._read_v1(self.fs_root / "memory", v1_path, mount, v2_path)
        return CgroupInfo(
            None,
            v2_path or v1_path or "",
            reason="no memory controller is mounted under " + str(self.fs_root),
        )

    def _read_v2(self, mount: Path, rel: str) -> CgroupInfo:
        own = _join(mount, rel)
        limit = high = None
        limit_src = high_src = ""
        for group in _ancestors(mount, own):
            value = _read_limit(group / "memory.max")
            if value is not None and (limit is None or value < limit):
                limit, limit_src = value, str(group / "memory.max")
            value = _read_limit(group / "memory.high")
            if value is not None and (high is None or value < high):
                high, high_src = value, str(group / "memory.high")
        stat = _read_keyed(own / "memory.stat")
        events = _read_keyed(own / "memory.events")
        pressure = own / "memory.pressure"
        return CgroupInfo(
            version=2,
            path=rel,
            limit=limit,
            limit_source=limit_src,
            high=high,
            high_source=high_src,
            current=_read_int(own / "memory.current"),
            inactive_file=stat.get("inactive_file"),
            events=events,
            pressure_file=str(pressure) if pressure.exists() else "",
            reason="" if own.is_dir() else f"{own} does not exist",
            directory=str(own),
        )

    def _read_v1(self, mount: Path, rel: str, v2_mount: Path | None, v2_path: str | None) -> CgroupInfo:
        own = _join(mount, rel)
        if not own.is_dir():  # inside a container the group is often the mount root
            own = mount
        stat = _read_keyed(own / "memory.stat")
        limit = _read_limit(own / "memory.limit_in_bytes")
        source = str(own / "memory.limit_in_bytes") if limit is not None else ""
        hier = stat.get("hierarchical_memory_limit")
        if hier is not None and hier < _UNLIMITED and (limit is None or hier < limit):
            limit, source = hier, str(own / "memory.stat") + ":hierarchical_memory_limit"
        pressure = ""
        if v2_mount is not None and v2_path is not None:
            candidate = _join(v2_mount, v2_path) / "memory.pressure"
            pressure = str(candidate) if candidate.exists() else ""
        events: dict[str, int] = {}
        failcnt = _read_int(own / "memory.failcnt")
        if failcnt is not None:
            events["max"] = failcnt
        oom = _read_keyed(own / "memory.oom_control")
        if "oom_kill" in oom:
            events["oom_kill"] = oom["oom_kill"]
        return CgroupInfo(
            version=1,
            path=rel,
            limit=limit,
            limit_source=source,
            current=_read_int(own / "memory.usage_in_bytes"),
            inactive_file=stat.get("total_inactive_file", stat.get("inactive_file")),
            events=events,
            pressure_file=pressure,
            directory=str(own),
        )


def read_cgroup() -> CgroupInfo:
    """The memory view of this process's control group."""
    return CgroupReader().read()


def membership(text: str) -> tuple[str | None, str | None]:
    """(v2 path, v1 memory-controller path) from the text of ``/proc/<pid>/cgroup``."""
    v2 = v1 = None
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hid, controllers, path = parts
        if hid == "0" and controllers == "":
            v2 = path.strip()
        elif "memory" in controllers.split(","):
            v1 = path.strip()
    return v2, v1


def parse_keyed(data: bytes | None, keys: frozenset[bytes] | None = None) -> dict[str, int]:
    """``key value`` lines (memory.events, memory.stat, memory.oom_control) to a dict;
    only ``keys`` when given. A line whose value is not an integer is left out."""
    out: dict[str, int] = {}
    if not data:
        return out
    for line in data.splitlines():
        key, _, value = line.partition(b" ")
        if keys is not None and key not in keys:
            continue
        try:
            out[key.decode()] = int(value)
        except ValueError:
            continue
    return out


_INACTIVE = frozenset({b"inactive_file", b"total_inactive_file"})


class GroupFiles:
    """A group's memory files kept open for readings every few milliseconds.

    ``usage=True`` opens the usage counter (``memory.current``, v1
    ``memory.usage_in_bytes``) and ``memory.stat``; ``events=True`` opens
    ``memory.events`` (cgroup v2 only). What cannot be opened is None with its reason
    in ``reasons`` (keys ``"usage"`` and ``"events"``).
    """

    def __init__(self, info: CgroupInfo, *, usage: bool = True, events: bool = True) -> None:
        self.reasons: dict[str, str] = {}
        self.usage_name = "memory.current" if info.version == 2 else "memory.usage_in_bytes"
        self._current: KeptFile | None = None
        self._stat: KeptFile | None = None
        self._events: KeptFile | None = None
        folder = info.directory
        if usage:
            if not folder:
                self.reasons["usage"] = info.reason or "no memory cgroup found"
            else:
                current = KeptFile(os.path.join(folder, self.usage_name), 64)
                if current.available:
                    self._current = current
                    self._stat = KeptFile(os.path.join(folder, "memory.stat"), 16384)
                else:
                    self.reasons["usage"] = current.reason
        if events:
            if folder and info.version == 2:
                kept = KeptFile(os.path.join(folder, "memory.events"), 1024)
                if kept.available:
                    self._events = kept
                else:
                    self.reasons["events"] = kept.reason
            else:
                self.reasons["events"] = "memory.events needs cgroup v2"

    @property
    def has_usage(self) -> bool:
        return self._current is not None

    @property
    def has_events(self) -> bool:
        return self._events is not None

    def usage(self) -> int | None:
        """The group's usage in bytes (``memory.current``), None when unreadable."""
        return self._current.read_int() if self._current is not None else None

    def inactive_file(self) -> int | None:
        """``inactive_file`` of ``memory.stat`` (v1: ``total_inactive_file``); None when unreadable."""
        if self._stat is None:
            return None
        stat = parse_keyed(self._stat.read(), _INACTIVE)
        return stat.get("inactive_file", stat.get("total_inactive_file"))

    def events(self) -> dict[str, int] | None:
        """The ``memory.events`` counters, None without the file."""
        return parse_keyed(self._events.read()) if self._events is not None else None

    def close(self) -> None:
        for kept in (self._current, self._stat, self._events):
            if kept is not None:
                kept.close()


def _join(mount: Path, rel: str) -> Path:
    return mount / rel.lstrip("/") if rel not in ("", "/") else mount


def _ancestors(mount: Path, own: Path) -> list[Path]:
    out = []
    current = own
    while True:
        out.append(current)
        if current == mount or mount not in current.parents:
            break
        current = current.parent
    return out


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _read_limit(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if text in ("", "max"):
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    return None if value >= _UNLIMITED else value


def _read_keyed(path: Path) -> dict[str, int]:
    try:
        return parse_keyed(path.read_bytes())
    except OSError:
        return {}
