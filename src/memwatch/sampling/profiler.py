"""Profile a block of code: memory over time in named phases.

::

    with MemoryProfiler(sample_interval_sec=0.01) as p:
        p.mark_phase_start("load")
        data = load()
        p.mark_phase_end("load")
    p.get_phase_stats()   # per phase: start/end/peak/delta memory, duration
    p.result()            # a RunResult: save it with memwatch.model.write_document

Phase marks take a sample on the spot, so a phase's start (entry) and end memory
are read exactly at its edges; its peak is the largest sample inside (a spike shorter than
the interval can be missed, but ``Timeline.peaks`` keeps the exact maximum of all
samples taken).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, Self

from memwatch.errors import UsageError
from memwatch.sampling.sampler import DEFAULT_MAX_SAMPLES, Sampler
from memwatch.sampling.sources import Mode

if TYPE_CHECKING:  # numpy, the model and the statistics load when a result is asked for
    from memwatch.model.timeline import PhaseStats, RunResult, Timeline

__all__ = ["MemoryProfiler", "build_run_result", "memory_usage", "phase_stats", "primary_signal"]

_MIB = float(2**20)
ExitKind = Literal["exited", "signal", "interrupted", "in-process", "failed-to-start"]


def primary_signal(timeline: Timeline, preferred: str | None = None) -> str:
    """The signal that peak, growth and phase figures are computed on: ``preferred``,
    else ``rss``, else the first recorded signal."""
    if preferred is not None:
        timeline.signal(preferred)  # KeyError naming the signals that exist
        return preferred
    if "rss" in timeline.signals:
        return "rss"
    if not timeline.signals:
        raise UsageError("the timeline records no signal")
    return next(iter(timeline.signals))


def phase_stats(timeline: Timeline, signal: str | None = None) -> tuple[PhaseStats, ...]:
    """Memory of every phase occurrence in ``timeline`` (open phases end at the last sample)."""
    from memwatch.model.timeline import PhaseStats
    from memwatch.stats.summary import interval_summary

    name = primary_signal(timeline, signal)
    values = timeline.signal(name)
    t_end = float(timeline.t[-1]) if len(timeline) else 0.0
    out = []
    for phase in timeline.phases:
        end = t_end if phase.end is None else phase.end
        summary = interval_summary(timeline.t, values, phase.start, end)
        out.append(
            PhaseStats(
                name=phase.name,
                start=phase.start,
                end=end,
                duration=max(end - phase.start, 0.0),
                start_memory=summary["start_memory"],
                end_memory=summary["end_memory"],
                peak_memory=summary["peak"],
                delta_memory=summary["delta"],
                peak_over_start=summary["peak"] - summary["start_memory"],
                samples=int(summary["samples"]),
                signal=name,
                depth=phase.depth,
            )
        )
    return tuple(out)


def build_run_result(
    timeline: Timeline,
    *,
    primary: str | None = None,
    exit: ExitKind = "in-process",
    extra_peak: float | None = None,
    extra_peak_source: str = "",
    duration: float | None = None,
    **meta: Any,
) -> RunResult:
    """Summarise a timeline as a :class:`RunResult`.

    The peak is the exact maximum of all samples taken (``Timeline.peaks``), or
    ``extra_peak`` (e.g. the kernel's ru_maxrss of a child) when that is larger;
    ``peak_source`` says which decided. Growth is last sample minus first. The duration
    is the timeline's, or ``duration`` (e.g. a command's wall time) when given.
    """
    import platform
    import socket

    import numpy as np

    from memwatch.model.timeline import RunResult

    name = primary_signal(timeline, primary)
    values = timeline.signal(name)
    valid = values[~np.isnan(values)]
    start = float(valid[0]) if valid.size else math.nan
    end = float(valid[-1]) if valid.size else math.nan
    peak = timeline.peaks.get(name, float(np.max(valid)) if valid.size else math.nan)
    source = "sampled"
    if extra_peak is not None and (math.isnan(peak) or extra_peak > peak):
        peak, source = float(extra_peak), extra_peak_source or "external"
    return RunResult(
        timeline=timeline,
        phase_stats=phase_stats(timeline, name),
        primary_signal=name,
        peak=peak,
        start_memory=start,
        end_memory=end,
        growth=end - start,
        duration=timeline.duration if duration is None else duration,
        exit=exit,
        host=socket.gethostname(),
        python=platform.python_version(),
        platform=platform.platform(terse=True),
        peak_source=source,
        **meta,
    )


class MemoryProfiler:
    """Sample this process in the background while a block runs; see the module docstring.

    ``signals`` are probe names (default: rss, py_blocks, native_heap); ``mode`` is
    ``"thread"`` or ``"process"`` (a helper process, rss/vms only, for intervals
    below ~5 ms). Figures use ``primary`` (default rss).
    """

    def __init__(
        self,
        sample_interval_sec: float = 0.01,
        signals: Sequence[str] | None = None,
        mode: Mode = "thread",
        *,
        primary: str | None = None,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        label: str = "",
    ) -> None:
        if primary is not None and signals is not None and primary in signals:
            # the first signal is read at every sample (others may be decimated when costly)
            signals = [primary, *(s for s in signals if s != primary)]
        self._sampler = Sampler(sample_interval_sec, signals, mode=mode, max_samples=max_samples)
        if primary is not None and primary not in self._sampler.names:
            raise UsageError(f"primary signal {primary!r} is not sampled (sampled: {self._sampler.names})")
        self.primary = primary
        self.label = label
        self._started = False
        self._stopped = False

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> Self:
        if self._started:
            raise UsageError("this MemoryProfiler was already started; create a new one")
        self._started = True
        self._sampler.start()
        return self

    def stop(self) -> RunResult:
        self._require_started()
        if not self._stopped:
            self._stopped = True
            self._sampler.stop()
        return self.result()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _require_started(self) -> None:
        if not self._started:
            raise UsageError("the MemoryProfiler has not started: use it in a `with` block or call start()")

    # -- phases ------------------------------------------------------------
    def mark_phase_start(self, name: str) -> None:
        """Sample, then open a phase (phases nest and repeat): its entry memory is exact."""
        self._require_started()
        if not self._stopped:
            self._sampler.sample()
        self._sampler.mark_phase_start(name)

    def mark_phase_end(self, name: str | None = None) -> None:
        """Sample, then close the latest open phase called ``name`` (the innermost if None)."""
        self._require_started()
        if not self._stopped:
            self._sampler.sample()
        self._sampler.mark_phase_end(name)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """``with p.phase("load"): ...`` marks the start and the end, even on an exception."""
        self.mark_phase_start(name)
        try:
            yield
        finally:
            self.mark_phase_end(name)

    # -- readings ----------------------------------------------------------
    def check_memory(self, force_sample: bool = False) -> dict[str, float]:
        """Read every signal now; with ``force_sample`` also record the reading."""
        self._require_started()
        if force_sample and not self._stopped:
            return self._sampler.sample()
        return self._sampler.read()

    def get_memory_timeline(self) -> Timeline:
        """Everything sampled so far (a copy; the profiler may still be running)."""
        self._require_started()
        return self._sampler.timeline()

    def get_phase_stats(self) -> list[PhaseStats]:
        """One entry per phase occurrence, in start order."""
        return list(phase_stats(self.get_memory_timeline(), self.primary))

    @property
    def peak_memory(self) -> float:
        """Largest sample of the primary signal so far (bytes)."""
        return self.result().peak

    @property
    def memory_change(self) -> float:
        """Last sample minus first of the primary signal (bytes)."""
        return self.result().growth

    def result(self) -> RunResult:
        return build_run_result(
            self.get_memory_timeline(), primary=self.primary, pid=os.getpid(), label=self.label
        )


def memory_usage(
    func: Callable[..., Any] | tuple[Any, ...],
    *args: Any,
    interval: float = 0.1,
    retval: bool = False,
    max_usage: bool = False,
    mode: Mode = "thread",
    **kwargs: Any,
) -> Any:
    """Run ``func(*args, **kwargs)`` while sampling this process's RSS, like memory_profiler's.

    Returns the RSS samples in MiB (memory_profiler's unit); with ``max_usage`` only
    their maximum; with ``retval`` a pair ``(samples, return value)``. ``func`` may also
    be memory_profiler's ``(f, args, kwargs)`` tuple. An exception from ``func`` propagates.
    """
    if isinstance(func, tuple):
        if not 1 <= len(func) <= 3 or not callable(func[0]):
            raise UsageError("memory_usage: expected a callable or a (func, args, kwargs) tuple")
        args = tuple(func[1]) if len(func) > 1 else args
        kwargs = dict(func[2]) if len(func) > 2 else kwargs
        func = func[0]
    if not callable(func):
        raise UsageError(f"memory_usage: {func!r} is not callable")
    sampler = Sampler(interval, ("rss",), mode=mode)
    sampler.start()
    try:
        value = func(*args, **kwargs)
    finally:
        timeline = sampler.stop()
    samples = [float(v) / _MIB for v in timeline.signal("rss")]
    usage: Any = max(samples) if max_usage else samples
    return (usage, value) if retval else usage
