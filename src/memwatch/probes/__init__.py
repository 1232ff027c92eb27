"""Readings only, no policy: the only code in memwatch that reads ``/proc``, cgroup and PSI files.

Each probe says "unavailable" with a reason where it cannot read. One module per source:
:mod:`.process` (RSS, VMS, USS, fds, threads, other processes), :mod:`.statm` (this
process's statm, standard library only), :mod:`.hwm` (the RSS high-water mark and its
per-test reset), :mod:`.python`, :mod:`.native` (glibc heap), :mod:`.system` (host memory and
the budget), :mod:`.cgroup` (control group files), :mod:`.psi` (pressure stall
information and its trigger), :mod:`.gpu`; :mod:`.kept` keeps a kernel file open for
cheap repeated reads.

Importing the package loads nothing else (no psutil, no tracemalloc): the pytest plugin
reads the high-water mark on every test through :mod:`.hwm` and :mod:`.statm` alone. The signal registry
(:func:`signal`, :data:`CHEAP`, :data:`SIGNALS`, in :mod:`.signals`) loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memwatch._lazy import lazy_exports

if TYPE_CHECKING:
    from memwatch.probes.base import Reading, Signal
    from memwatch.probes.signals import CHEAP, SIGNALS, signal, signal_names

__all__ = ["CHEAP", "SIGNALS", "Reading", "Signal", "signal", "signal_names"]

_LAZY = {
    "CHEAP": "memwatch.probes.signals",
    "SIGNALS": "memwatch.probes.signals",
    "signal": "memwatch.probes.signals",
    "signal_names": "memwatch.probes.signals",
    "Reading": "memwatch.probes.base",
    "Signal": "memwatch.probes.base",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
