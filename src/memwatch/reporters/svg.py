"""Small, dependency-free SVG line charts for the HTML report (no network, no JavaScript).

Reporters only draw: the series come computed in a :class:`~memwatch.model.suite.Chart`.
Every text that reaches the SVG is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from memwatch.model.suite import Chart
from memwatch.units import format_size

__all__ = ["PALETTE", "render_chart"]

PALETTE = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2")
_W, _H = 640, 240
_ML, _MR, _MT, _MB = 72, 16, 28, 40


def _fmt(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "–"
    if unit == "bytes":
        return format_size(value)
    if unit == "ms":
        return f"{value:.3g} ms"
    return f"{value:,.4g}"


def _nice_step(span: float, count: int) -> float:
    raw = span / count
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= factor * power:
            return factor * power
    return 10.0 * power  # pragma: no cover - the loop always returns


def _axis(lo: float, hi: float, unit: str, count: int = 4) -> tuple[float, float, list[float]]:
    """A padded range with round tick values; a flat series gets a small visible span."""
    if hi - lo <= 0:
        pad = max(abs(lo) * 0.05, 1024.0 if unit == "bytes" else 1.0)
        lo, hi = lo - pad, hi + pad
    scale = 1.0
    if unit == "bytes":  # round steps in the binary unit the labels use (KiB, MiB, ...)
        biggest = max(abs(lo), abs(hi), 1.0)
        scale = 1024.0 ** min(4, int(math.log(biggest, 1024)))
    step = _nice_step((hi - lo) / scale, count) * scale
    start = math.floor(lo / step) * step
    end = math.ceil(hi / step) * step
    ticks = [start + i * step for i in range(round((end - start) / step) + 1)]
    return start, end, [0.0 if abs(t) < step * 1e-9 else t for t in ticks]


def _ticks(lo: float, hi: float, count: int = 4) -> list[tuple[float, str]]:
    """Round tick values inside ``[lo, hi]`` (the data's own range) and their labels."""
    if hi <= lo:
        return [(lo, f"{lo:.4g}")]
    step = _nice_step(hi - lo, count)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    first = math.ceil(lo / step - 1e-9) * step
    n = math.floor((hi - first) / step + 1e-9) + 1
    return [
        (t, f"{0.0 if abs(t) < step * 1e-9 else t:,.{decimals}f}")
        for t in (first + i * step for i in range(n))
    ]


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def render_chart(chart: Chart) -> str:
    """One chart as an inline ``<svg>`` element (role="img", titled for screen readers)."""
    xs = list(chart.x)
    ys_all = [v for series in chart.series.values() for v in _finite(series)]
    if not xs or not ys_all:
        return f'<p class="empty">{escape(chart.title)}: no data</p>'
    x0, x1 = min(xs), max(xs)
    y0, y1, yticks = _axis(min(ys_all), max(ys_all), chart.unit)
    if x1 == x0:
        x1 = x0 + 1.0
    pw, ph = _W - _ML - _MR, _H - _MT - _MB

    def sx(x: float) -> float:
        return _ML + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return _MT + ph - (y - y0) / (y1 - y0) * ph

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" role="img" '
        f'class="chart"><title>{escape(chart.title)}</title>',
        f'<text x="{_ML}" y="18" class="ct">{escape(chart.title)}</text>',
        f'<rect x="{_ML}" y="{_MT}" width="{pw}" height="{ph}" class="plot"/>',
    ]
    for tick in yticks:
        y = sy(tick)
        parts.append(f'<line x1="{_ML}" x2="{_ML + pw}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        label = escape(_fmt(tick, chart.unit))
        parts.append(f'<text x="{_ML - 6}" y="{y + 4:.1f}" class="yl">{label}</text>')
    for tick, label in _ticks(x0, x1):
        parts.append(f'<text x="{sx(tick):.1f}" y="{_MT + ph + 16}" class="xl">{label}</text>')
    if chart.x_label:
        parts.append(f'<text x="{_ML + pw / 2:.1f}" y="{_H - 6}" class="xl">{escape(chart.x_label)}</text>')
    for x, label in chart.markers:
        px = sx(x)
        parts.append(
            f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{_MT}" y2="{_MT + ph}" class="mark"/>'
            f'<text x="{px + 3:.1f}" y="{_MT + 12}" class="ml">{escape(label)}</text>'
        )
    for index, (label, values) in enumerate(chart.series.items()):
        color = PALETTE[index % len(PALETTE)]
        points = " ".join(
            f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(xs, values, strict=False) if math.isfinite(y)
        )
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
        ly = _MT + 14 + 14 * index
        parts.append(f'<text x="{_ML + pw - 6}" y="{ly}" class="lg" fill="{color}">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
