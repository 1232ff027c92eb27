"""A picture of a run: memory over time (MiB), its change rate, phase bands and the peak.

PNG or SVG, chosen by the file's extension. matplotlib is imported only here and
only when a plot is drawn, through its object API with the Agg canvas (no pyplot,
no display needed). Several runs (or a benchmark's runs) are drawn on one set of
axes to compare them; phases and the peak marker are drawn for a single run.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from memwatch.errors import UsageError
from memwatch.model.base import Record, open_temp_beside
from memwatch.model.timeline import BenchmarkResult, RunResult, Timeline
from memwatch.stats.summary import smoothed_rate

__all__ = ["FORMATS", "visualize_memory_timeline", "write_plot"]

FORMATS = ("png", "svg")
_MIB = float(2**20)
_BAND_COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f")


def _runs(result: Record | Sequence[RunResult]) -> list[RunResult]:
    if isinstance(result, RunResult):
        return [result]
    if isinstance(result, BenchmarkResult):
        if not result.runs:
            raise UsageError("this benchmark result holds no runs to plot")
        return list(result.runs)
    if isinstance(result, Sequence) and all(isinstance(r, RunResult) for r in result) and result:
        return list(result)
    raise UsageError(
        f"cannot plot a {getattr(result, 'KIND', '') or type(result).__name__!r} result; "
        "plot takes runs (memwatch run) or a benchmark"
    )


def _label(run: RunResult, index: int) -> str:
    if run.label:
        return run.label
    if run.command:
        text = " ".join([os.path.basename(run.command[0]), *run.command[1:]])
        return text if len(text) <= 50 else text[:47] + "..."
    return f"run {index + 1}"


def _phases(ax: Any, run: RunResult) -> None:
    top = ax.get_ylim()[1]
    for i, stats in enumerate(run.phase_stats):
        color = _BAND_COLORS[i % len(_BAND_COLORS)]
        ax.axvspan(stats.start, stats.end, color=color, alpha=0.16 / (1 + stats.depth), lw=0)
        narrow = stats.duration < 0.06 * run.duration
        ax.text(
            stats.start,
            top,
            " " + stats.name,
            rotation=90 if narrow else 0,
            va="top",
            ha="left",
            fontsize=8,
            color=color,
            clip_on=True,
            transform=ax.transData,
            alpha=0.95,
        )


def _draw(fig: Any, runs: list[RunResult], title: str | None = None) -> None:
    ax_mem, ax_rate = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    single = len(runs) == 1
    for i, run in enumerate(runs):
        tl = run.timeline
        values = tl.signal(run.primary_signal) / _MIB
        ax_mem.plot(
            tl.t,
            values,
            lw=1.4,
            label=f"{run.primary_signal}: {_label(run, i)}" if not single else run.primary_signal,
            color=None if not single else "#1f3b73",
        )
        if single:
            for name, series in tl.signals.items():
                if name != run.primary_signal and tl.units.get(name) == "bytes":
                    ax_mem.plot(tl.t, series / _MIB, lw=1.0, ls="--", alpha=0.8, label=name.replace("_", " "))
        window = max(5 * tl.interval * tl.downsampled, 0.05)
        ax_rate.plot(tl.t, smoothed_rate(tl.t, values, window), lw=1.0, color="#1f3b73" if single else None)
    ax_mem.set_ylim(
        bottom=0,
        top=max(float(np.nanmax(r.timeline.signal(r.primary_signal))) for r in runs) / _MIB * 1.15 + 1,
    )
    if single:
        run = runs[0]
        tl = run.timeline
        values = tl.signal(run.primary_signal)
        if len(tl) and not np.all(np.isnan(values)):
            index = int(np.nanargmax(values))
            peak_t, peak_v = float(tl.t[index]), float(values[index]) / _MIB
            ax_mem.plot(
                [peak_t],
                [peak_v],
                marker="v",
                color="#c0392b",
                ms=9,
                ls="none",
                label=f"peak {peak_v:,.1f} MiB at {peak_t:.2f} s",
            )
            if run.peak / _MIB > peak_v * 1.001:
                ax_mem.axhline(
                    run.peak / _MIB,
                    color="#c0392b",
                    ls=":",
                    lw=1,
                    label=f"peak {run.peak / _MIB:,.1f} MiB ({run.peak_source})",
                )
        _phases(ax_mem, run)
    ax_rate.axhline(0, color="#888888", lw=0.8)
    ax_mem.set_ylabel("memory (MiB)")
    ax_rate.set_ylabel("change (MiB/s)")
    ax_rate.set_xlabel("time (s)")
    ax_mem.grid(alpha=0.3)
    ax_rate.grid(alpha=0.3)
    ax_mem.legend(loc="upper right", fontsize=8, framealpha=0.85)
    if title is None:
        title = "memwatch: " + (_label(runs[0], 0) if single else f"{len(runs)} runs")
    ax_mem.set_title(title, fontsize=11)


def write_plot(
    result: Record | Sequence[RunResult], path: str | os.PathLike[str], *, title: str | None = None
) -> Path:
    """Draw ``result`` (a run, several runs, or a benchmark) to ``path`` (.png or .svg), atomically."""
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise UsageError(f"cannot write a plot to {target}: use a .png or .svg file name")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"cannot write {target}: folder {folder} does not exist")
    runs = _runs(result)
    if not any(len(r.timeline) for r in runs):
        raise UsageError("nothing to plot: the run holds no samples")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 6), dpi=110, layout="constrained")
    _draw(fig, runs, title)
    try:
        fd, tmp = open_temp_beside(target)  # the umask's mode, not mkstemp's 0o600
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            fig.savefig(handle, format=fmt, metadata={"Software": "memwatch"} if fmt == "png" else None)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def visualize_memory_timeline(
    timeline: Timeline | Record | Sequence[RunResult],
    title: str | None = None,
    path: str | os.PathLike[str] = "memory_usage_plot.png",
) -> Path:
    """Document 002's name for :func:`write_plot`, with a title.

    ``timeline`` is a :class:`Timeline` (``profiler.get_memory_timeline()``), a run
    (``profiler.result()``, ``memwatch run``), several runs or a benchmark.
    """
    if isinstance(timeline, Timeline):
        from memwatch.sampling.profiler import build_run_result

        timeline = build_run_result(timeline)
    return write_plot(timeline, path, title=title)
