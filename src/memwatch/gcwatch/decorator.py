"""``@gc_performance_monitor``: record and log the GC cost of every call of a function."""

from __future__ import annotations

import functools
import inspect
import logging
import typing
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar, overload

from memwatch.errors import ConfigError
from memwatch.gcwatch.monitor import GCMonitor
from memwatch.model.gc import GCReport

__all__ = ["gc_performance_monitor"]

F = TypeVar("F", bound=Callable[..., Any])
LOG = logging.getLogger("memwatch.gcwatch")


def _record(
    name: str,
    reports: deque[GCReport],
    report: GCReport,
    level: int,
    warn_pause_ms: float | None,
    logger: logging.Logger,
) -> None:
    reports.append(report)
    allp = report.pauses["all"]
    slow = warn_pause_ms is not None and allp.max_ms > warn_pause_ms
    lvl = max(level, logging.WARNING) if slow else level
    if logger.isEnabledFor(lvl):
        logger.log(
            lvl,
            "%s: %d collections, GC pause total %.3f ms, max %.3f ms (%.1f%% of %.3f ms)%s",
            name,
            report.collections,
            allp.total_ms,
            allp.max_ms,
            allp.share * 100,
            report.wall_ms,
            f"; above {warn_pause_ms:g} ms" if slow else "",
        )


def _wrap(func: F, level: int, keep: int, warn_pause_ms: float | None, logger: logging.Logger) -> F:
    reports: deque[GCReport] = deque(maxlen=keep)
    name = getattr(func, "__qualname__", repr(func))

    def begin() -> GCMonitor:
        return GCMonitor(count_objects=False, component=name).start()

    def end(gm: GCMonitor) -> None:
        gm.operations = 1
        _record(name, reports, gm.stop(), level, warn_pause_ms, logger)

    wrapper: Any
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def awrapper(*args: Any, **kwargs: Any) -> Any:
            gm = begin()
            try:
                return await func(*args, **kwargs)
            finally:
                end(gm)

        wrapper = awrapper
    else:

        @functools.wraps(func)
        def swrapper(*args: Any, **kwargs: Any) -> Any:
            gm = begin()
            try:
                return func(*args, **kwargs)
            finally:
                end(gm)

        wrapper = swrapper
    wrapper.gc_reports = reports
    return typing.cast(F, wrapper)


@overload
def gc_performance_monitor(func: F, /) -> F: ...


@overload
def gc_performance_monitor(
    *,
    level: int = ...,
    keep: int = ...,
    warn_pause_ms: float | None = ...,
    logger: logging.Logger | None = ...,
) -> Callable[[F], F]: ...


def gc_performance_monitor(
    func: Any = None,
    /,
    *,
    level: int = logging.DEBUG,
    keep: int = 100,
    warn_pause_ms: float | None = None,
    logger: logging.Logger | None = None,
) -> Any:
    """Decorate a function (sync or async) so each call runs under a :class:`GCMonitor`.

    Each call's report is kept in ``func.gc_reports`` (the last ``keep``) and logged
    on the ``memwatch.gcwatch`` logger at ``level``; a call whose longest pause
    exceeds ``warn_pause_ms`` logs at WARNING. A call that raises still records its
    report, then the exception propagates unchanged. Collections are process-wide:
    concurrent calls each see every collection that ran during them.
    """
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ConfigError(f"keep must be a positive integer, got {keep!r}")
    if warn_pause_ms is not None and warn_pause_ms < 0:
        raise ConfigError(f"warn_pause_ms must not be negative, got {warn_pause_ms!r}")
    log = logger or LOG
    if func is not None:
        if not callable(func):
            raise ConfigError(f"gc_performance_monitor decorates a callable, got {type(func).__name__}")
        return _wrap(func, level, keep, warn_pause_ms, log)
    return lambda f: _wrap(f, level, keep, warn_pause_ms, log)
