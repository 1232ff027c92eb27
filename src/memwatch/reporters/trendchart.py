"""SVG for a metric over runs: a full chart (baseline band, change points, environment
switches, a hover title per point) and a sparkline. No script, no network.

Long series are drawn in buckets: above :data:`MAX_MARKS` points, each of
:data:`BUCKETS` buckets of
consecutive runs is one hover target (its median on the line, its minimum and
maximum as a shaded envelope, its runs and commits in the title), so a chart of
10,000 runs stays a few tens of kB. Colours come from CSS classes (light and dark
themes live in the page's stylesheet). Every text that reaches the SVG is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

import numpy as np

from memwatch.reporters.svg import _axis
from memwatch.units import format_size

__all__ = [
    "BUCKETS",
    "MAX_MARKS",
    "Marker",
    "TrendFigure",
    "bucket_medians",
    "format_value",
    "render_sparkline",
    "render_trend",
]

MAX_MARKS = 300  # points drawn one by one up to this many
BUCKETS = 150  # hover targets over a longer series
_W, _H = 760, 280
_ML, _MR, _MT, _MB = 78, 14, 30, 42


@dataclass(frozen=True)
class Marker:
    """A vertical line before point ``index``: a change point (``kind`` up/down) or a switch."""

    index: int
    label: str
    kind: str  # "up", "down" or "switch"
    title: str = ""
    href: str = ""


@dataclass(frozen=True)
class TrendFigure:
    """What to draw; ``point_title(i)`` and ``range_title(i, j)`` describe points on hover."""

    title: str
    unit: str
    values: np.ndarray
    point_title: Callable[[int], str]
    range_title: Callable[[int, int, float, float, float], str]  # first, end, median, min, max
    tick_label: Callable[[int], str] = str
    band: tuple[float, float, int] | None = None  # low, high, first point it applies from
    band_label: str = ""
    baseline: float | None = None
    markers: Sequence[Marker] = field(default_factory=tuple)
    x_label: str = "run"


def bucket_medians(values: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """(start index of each bucket, its median): at most ``buckets`` buckets of equal size."""
    n = int(values.size)
    size = max(1, math.ceil(n / max(1, buckets)))
    starts = np.arange(0, n, size)
    whole = n // size * size
    med = np.median(values[:whole].reshape(-1, size), axis=1) if whole else np.empty(0)
    if whole < n:
        med = np.append(med, np.median(values[whole:]))
    return starts, med


def format_value(value: float, unit: str, *, signed: bool = False) -> str:
    """A value for a dashboard cell or axis: sizes for bytes, µs/ms/s for seconds, plain counts."""
    if not math.isfinite(value):
        return "–"
    if unit == "bytes":
        return format_size(value, signed=signed)
    sign = "+" if signed and value > 0 else ""
    if unit in ("s", "seconds"):
        size = abs(value)
        if size == 0:
            return f"{sign}0 s"
        if size < 1e-3:
            return f"{sign}{value * 1e6:.3g} µs"
        if size < 1:
            return f"{sign}{value * 1e3:.3g} ms"
        return f"{sign}{value:.3g} s"
    text = f"{value:{sign},.0f}" if float(value).is_integer() or abs(value) >= 1000 else f"{value:{sign},.4g}"
    return text if unit in ("", "count") else f"{text} {unit}"


def _value(v: float, unit: str) -> str:
    return format_value(v, unit)


def _tick(v: float, unit: str) -> str:
    """An axis label: a byte tick under 1 KiB keeps its fraction (``8.25 B``, not ``8 B``)."""
    if unit == "bytes" and abs(v) < 1024 and not float(v).is_integer():
        return f"{v:.3g} B"
    return format_value(v, unit)


def render_sparkline(values: np.ndarray, *, label: str, width: int = 120, height: int = 26) -> str:
    """A small line of the series (at most 40 bucket medians) with its last point dotted."""
    if values.size == 0:
        return ""
    _, med = bucket_medians(values, 40)
    lo, hi = float(med.min()), float(med.max())
    span = hi - lo or (abs(hi) or 1.0)
    n = med.size
    xs = [2 + (width - 4) * (i / (n - 1) if n > 1 else 0.5) for i in range(n)]
    ys = [height - 3 - (height - 6) * ((v - lo) / span if hi > lo else 0.5) for v in med]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    return (
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
        f'<polyline points="{points}"/><circle cx="{xs[-1]:.1f}" cy="{ys[-1]:.1f}" r="2.2"/></svg>'
    )


def render_trend(fig: TrendFigure, *, chart_id: str) -> str:
    """The full chart as an inline ``<svg>``: role img, title and a text description."""
    y = np.asarray(fig.values, dtype=np.float64)
    n = int(y.size)
    if n == 0:
        return f'<p class="empty">{escape(fig.title)}: no data</p>'
    lo, hi = float(y.min()), float(y.max())
    if fig.baseline is not None:
        lo, hi = min(lo, fig.baseline), max(hi, fig.baseline)
    y0, y1, yticks = _axis(lo, hi, fig.unit)
    pw, ph = _W - _ML - _MR, _H - _MT - _MB
    span = max(n - 1, 1)

    def sx(i: float) -> float:
        return _ML + (i / span * pw if n > 1 else pw / 2)

    def sy(v: float) -> float:
        return _MT + ph - (v - y0) / (y1 - y0) * ph

    desc = (
        f"{n} runs, from {_value(float(y[0]), fig.unit)} to {_value(float(y[-1]), fig.unit)}; "
        f"lowest {_value(lo, fig.unit)}, highest {_value(hi, fig.unit)}; "
        f"{sum(1 for m in fig.markers if m.kind != 'switch')} change points, "
        f"{sum(1 for m in fig.markers if m.kind == 'switch')} environment switches"
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" class="trend" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d"><title id="{chart_id}-t">{escape(fig.title)}</title>'
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
        f'<rect x="{_ML}" y="{_MT}" width="{pw}" height="{ph}" class="plot"/>',
    ]
    for tick in yticks:
        ty = sy(tick)
        parts.append(f'<line x1="{_ML}" x2="{_ML + pw}" y1="{ty:.1f}" y2="{ty:.1f}" class="grid"/>')
        parts.append(
            f'<text x="{_ML - 6}" y="{ty + 4:.1f}" class="yl">{escape(_tick(tick, fig.unit))}</text>'
        )
    for i in sorted({round(k * span / 5) for k in range(6)} if n > 1 else {0}):
        parts.append(
            f'<text x="{sx(i):.1f}" y="{_MT + ph + 16}" class="xl">{escape(fig.tick_label(i))}</text>'
        )
    parts.append(f'<text x="{_ML + pw / 2:.1f}" y="{_H - 8}" class="xl">{escape(fig.x_label)}</text>')
    if fig.band is not None:
        b_lo, b_hi, start = max(fig.band[0], y0), min(fig.band[1], y1), fig.band[2]
        x_start = sx(max(0, start - 0.5)) if start > 0 else _ML
        parts.append(
            f'<rect x="{x_start:.1f}" y="{sy(b_hi):.1f}" width="{_ML + pw - x_start:.1f}" '
            f'height="{max(sy(b_lo) - sy(b_hi), 1.0):.1f}" class="band"><title>{escape(fig.band_label)}</title></rect>'
        )
        if fig.baseline is not None:
            by = sy(fig.baseline)
            parts.append(
                f'<line x1="{x_start:.1f}" x2="{_ML + pw}" y1="{by:.1f}" y2="{by:.1f}" class="base"/>'
            )
    if n > MAX_MARKS:
        parts.extend(_buckets(y, fig, sx, sy, ph))
    else:
        points = " ".join(f"{sx(i):.1f},{sy(float(v)):.1f}" for i, v in enumerate(y))
        parts.append(f'<polyline class="line" points="{points}"/>')
        radius = 3.0 if n <= 120 else 2.0
        parts.extend(
            f'<circle class="pt" cx="{sx(i):.1f}" cy="{sy(float(v)):.1f}" r="{radius}">'
            f"<title>{escape(fig.point_title(i))}</title></circle>"
            for i, v in enumerate(y)
        )
    parts.extend(_markers(fig.markers, sx, ph))
    parts.append("</svg>")
    return "".join(parts)


def _buckets(
    y: np.ndarray, fig: TrendFigure, sx: Callable[[float], float], sy: Callable[[float], float], ph: float
) -> list[str]:
    starts, med = bucket_medians(y, BUCKETS)
    ends = np.append(starts[1:], y.size)
    mins = np.minimum.reduceat(y, starts)
    maxs = np.maximum.reduceat(y, starts)
    centre = (starts + ends - 1) / 2.0
    upper = " ".join(f"{sx(c):.1f},{sy(float(v)):.1f}" for c, v in zip(centre, maxs, strict=True))
    lower = " ".join(f"{sx(c):.1f},{sy(float(v)):.1f}" for c, v in zip(centre[::-1], mins[::-1], strict=True))
    line = " ".join(f"{sx(c):.1f},{sy(float(v)):.1f}" for c, v in zip(centre, med, strict=True))
    out = [
        f'<polygon class="envelope" points="{upper} {lower}"/>',
        f'<polyline class="line" points="{line}"/>',
    ]
    width = sx(float(ends[0])) - sx(0.0)
    for a, b, m, lo, hi in zip(starts, ends, med, mins, maxs, strict=True):
        x = sx(float(a) - 0.5) if a > 0 else sx(0.0)
        out.append(
            f'<rect class="hit" x="{x:.1f}" y="{_MT}" width="{max(width, 1.0):.1f}" height="{ph:.1f}">'
            f"<title>{escape(fig.range_title(int(a), int(b), float(m), float(lo), float(hi)))}</title></rect>"
        )
    return out


def _markers(markers: Sequence[Marker], sx: Callable[[float], float], ph: float) -> list[str]:
    out: list[str] = []
    switches = [m for m in markers if m.kind == "switch"]
    for m in switches[:30]:
        x = sx(m.index - 0.5)
        out.append(
            f'<g class="switch"><line x1="{x:.1f}" x2="{x:.1f}" y1="{_MT}" y2="{_MT + ph}"/>'
            f'<text x="{x + 3:.1f}" y="{_MT + ph - 4}">{escape(m.label)}</text>'
            f"<title>{escape(m.title or m.label)}</title></g>"
        )
    for k, m in enumerate(x for x in markers if x.kind != "switch"):
        x = sx(m.index - 0.5)
        inner = (
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{_MT}" y2="{_MT + ph}"/>'
            f'<text x="{x + 3:.1f}" y="{_MT - 8 + (k % 2) * 12}">{escape(m.label)}</text>'
            f"<title>{escape(m.title or m.label)}</title>"
        )
        if m.href:
            inner = f'<a href="{escape(m.href)}">{inner}</a>'
        out.append(f'<g class="step {escape(m.kind)}">{inner}</g>')
    return out
