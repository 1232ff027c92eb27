"""The dashboard's SVG: escaped text, one hover title per point or bucket, bounded size."""

from __future__ import annotations

import re

import numpy as np

from memwatch.reporters.trendchart import (
    BUCKETS,
    Marker,
    TrendFigure,
    format_value,
    render_sparkline,
    render_trend,
)


def figure(n: int, **kw: object) -> TrendFigure:
    values = np.linspace(10e6, 20e6, n)
    return TrendFigure(
        title="peak of t[<b>]",
        unit="bytes",
        values=values,
        point_title=lambda i: f"run {i + 1} <x>",
        range_title=lambda i, j, m, lo, hi: f"runs {i + 1}-{j} median {m:.0f}",
        **kw,  # type: ignore[arg-type]
    )


def test_short_series_get_a_title_per_point_and_escaped_text() -> None:
    svg = render_trend(
        figure(40, markers=(Marker(20, "▲ +50% <i>", "up", "step & more", "../r.html#f1"),)), chart_id="c0"
    )
    assert svg.count("<circle") == 40
    assert "run 7 &lt;x&gt;" in svg
    assert "peak of t[&lt;b&gt;]" in svg
    assert "<b>" not in svg
    assert "<i>" not in svg
    assert '<a href="../r.html#f1">' in svg
    assert 'class="step up"' in svg


def test_long_series_are_bucketed_and_stay_small() -> None:
    svg = render_trend(figure(10_000), chart_id="c0")
    assert svg.count('class="hit"') == BUCKETS
    assert "<circle" not in svg
    assert "runs 1-67 median" in svg
    assert len(svg) < 60_000


def test_band_is_clipped_to_the_axis() -> None:
    svg = render_trend(figure(10, band=(0.0, 1e12, 0), band_label="baseline", baseline=15e6), chart_id="c0")
    found = re.search(r'height="([\d.]+)" class="band"', svg)
    assert found is not None
    height = float(found.group(1))
    assert height <= 280


def test_sparkline_and_values() -> None:
    spark = render_sparkline(np.arange(1000.0), label='t "x" <y>')
    assert 'aria-label="t &quot;x&quot; &lt;y&gt;"' in spark
    assert 30 <= spark.count(",") <= 40  # at most 40 points
    assert format_value(2.5e-6, "s") == "2.5 µs"
    assert format_value(0.0123, "s") == "12.3 ms"
    assert format_value(3.0, "count") == "3"
    assert format_value(1536.0, "bytes", signed=True) == "+1.5 KiB"
