"""Memory pressure stall information (PSI): the share of time tasks stalled on memory.

``some`` is the share of wall time in which at least one task waited for memory,
``full`` the share in which all non-idle tasks did; averaged over 10, 60 and 300 s.
Read from the cgroup's ``memory.pressure`` when there is one, else the system's
``/proc/pressure/memory``. Needs Linux 4.20+ with PSI enabled.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Pressure", "read_pressure"]


@dataclass(frozen=True)
class Pressure:
    """PSI averages in percent (0-100) and total stall microseconds, or the reason."""

    source: str
    some_avg10: float | None = None
    some_avg60: float | None = None
    some_avg300: float | None = None
    some_total_us: int | None = None
    full_avg10: float | None = None
    full_avg60: float | None = None
    full_avg300: float | None = None
    full_total_us: int | None = None
    reason: str = ""

    @property
    def available(self) -> bool:
        return self.some_avg10 is not None


def parse_pressure(text: str, source: str) -> Pressure:
    """Parse the ``some ...`` / ``full ...`` lines of a PSI file."""
    values: dict[str, float | int] = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0] not in ("some", "full"):
            continue
        for item in parts[1:]:
            key, _, raw = item.partition("=")
            try:
                values[f"{parts[0]}_{key}"] = int(raw) if key == "total" else float(raw)
            except ValueError:
                continue
    if "some_avg10" not in values:
        return Pressure(source, reason=f"{source}: no 'some' line")
    return Pressure(
        source=source,
        some_avg10=float(values["some_avg10"]),
        some_avg60=_f(values.get("some_avg60")),
        some_avg300=_f(values.get("some_avg300")),
        some_total_us=_i(values.get("some_total")),
        full_avg10=_f(values.get("full_avg10")),
        full_avg60=_f(values.get("full_avg60")),
        full_avg300=_f(values.get("full_avg300")),
        full_total_us=_i(values.get("full_total")),
    )


def read_pressure(path: str | os.PathLike[str] | None = None) -> Pressure:
    """Read PSI from ``path``, else the cgroup's memory.pressure, else /proc/pressure/memory."""
    candidates: list[str] = []
    if path is not None:
        candidates.append(str(path))
    else:
        from memwatch.probes.cgroup import read_cgroup

        cg = read_cgroup()
        if cg.pressure_file:
            candidates.append(cg.pressure_file)
        candidates.append("/proc/pressure/memory")
    reasons = []
    for candidate in candidates:
        try:
            text = Path(candidate).read_text()
        except OSError as exc:
            reasons.append(f"{candidate}: {exc.strerror or exc}")
            continue
        return parse_pressure(text, candidate)
    return Pressure(source=candidates[-1], reason="; ".join(reasons) or "PSI is not available")


def _f(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _i(value: float | int | None) -> int | None:
    return None if value is None else int(value)
