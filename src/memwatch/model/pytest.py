"""Results of a ``pytest --memwatch`` run: one record per test, one session document.

Every byte figure is measured on the test *body* only (the call phase), apart from
fixture setup and teardown:

- ``peak`` is the peak resident set size during the body minus the RSS at its start
  (Linux: VmHWM reset through ``/proc/self/clear_refs`` before the body and read
  after it; elsewhere a sampling thread, ``peak_source`` says which).
- ``growth`` is RSS at the end of the body minus RSS at its start (no collection in
  between, so garbage that the next collection frees still counts).
- ``native_peak`` (``limit_native_memory`` tests) is the sampled peak of the glibc
  heap in use over its start; ``python_peak`` (``--memwatch-tracemalloc``) is the
  tracemalloc peak over its start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from memwatch.model.base import Record, register_kind
from memwatch.model.snapshots import AllocationSite  # the one record of a live allocation site

if TYPE_CHECKING:
    from memwatch.model.timeline import RunResult

__all__ = ["AllocationSite", "CheckOutcome", "ItemRecord", "PytestSession"]


@dataclass(frozen=True)
class CheckOutcome(Record):
    """The verdict of one checking marker on one test.

    ``check`` is ``limit_memory``, ``limit_native_memory`` or ``no_leaks``;
    ``limit`` and ``measured`` are bytes (for ``no_leaks``: the growth budget per
    1,000 calls and the projected growth per 1,000 calls); ``message`` is the text
    shown when the check failed, empty when it passed.
    """

    check: str
    passed: bool
    limit: int | None = None
    measured: float | None = None
    message: str = ""
    detail: str = ""


@dataclass(frozen=True)
class ItemRecord(Record):
    """What memwatch measured for one test (see the module docstring for the figures)."""

    nodeid: str
    outcome: str = "passed"
    duration: float = 0.0
    start_rss: int | None = None
    peak: int | None = None
    growth: int | None = None
    peak_source: str = ""
    native_peak: int | None = None
    python_peak: int | None = None
    markers: tuple[str, ...] = ()
    checks: tuple[CheckOutcome, ...] = ()
    sites: tuple[AllocationSite, ...] = ()
    worker: str = ""
    #: the ``memory_profiler`` fixture's RunResult as a dict (see :attr:`profile_result`);
    #: kept as a plain dict so that recording a test does not import numpy
    profile: dict[str, Any] | None = None

    @property
    def profile_result(self) -> RunResult | None:
        """The ``memory_profiler`` fixture's result, rebuilt (None when the test had none)."""
        if self.profile is None:
            return None
        from memwatch.model.timeline import RunResult

        return RunResult.from_dict(self.profile)

    @property
    def failed_checks(self) -> tuple[CheckOutcome, ...]:
        return tuple(check for check in self.checks if not check.passed)


@register_kind("pytest_session")
@dataclass(frozen=True)
class PytestSession(Record):
    """One pytest session's records, in the order the tests finished.

    ``level`` is the ``--memwatch-level`` the run used (empty when none);
    ``workers`` is the number of xdist workers (0 without xdist).
    """

    started_at: float
    duration: float
    tests: tuple[ItemRecord, ...]
    exit_status: int = 0
    level: str = ""
    workers: int = 0
    python: str = ""
    platform: str = ""
    host: str = ""
    rootdir: str = ""
    args: tuple[str, ...] = ()

    def record(self, nodeid: str) -> ItemRecord:
        """The record of one test; KeyError when the run has none for it."""
        for item in self.tests:
            if item.nodeid == nodeid:
                return item
        raise KeyError(f"no record for {nodeid!r} in this session")
