"""Text for people about GC results (:class:`~memwatch.model.gc.GCReport`, advice)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memwatch.model.gc import GCAdvice, GCReport

__all__ = ["advice_summary", "gc_summary"]


def advice_summary(report: GCAdvice) -> str:
    return "\n".join(f"- {r.action}: {r.reason}" for r in report.recommendations)


def gc_summary(report: GCReport) -> str:
    """A few lines for people: pauses per generation, frequency, efficiency, latency."""
    head = report.component + ": " if report.component else ""
    lines = [
        f"{head}{_n(report.collections, 'collection')} "
        f"({report.automatic:,} automatic, {report.forced:,} forced) "
        f"in {report.wall_ms:,.1f} ms on Python {report.interpreter.version} "
        f"({report.interpreter.collector}, thresholds {report.interpreter.thresholds})"
    ]
    for key in ("gen0", "gen1", "gen2"):
        p = report.pauses[key]
        if p.count:
            lines.append(
                f"  {key}: {_n(p.count, 'pause')}, total {p.total_ms:.2f} ms "
                f"({p.share:.2%} of wall), "
                f"p50 {p.p50_ms:.3f} / p95 {p.p95_ms:.3f} / p99 {p.p99_ms:.3f} / "
                f"max {p.max_ms:.3f} ms"
            )
    lines.append(
        f"  collected {report.collected:,} objects, {report.efficiency:,.0f} per ms of pause; "
        f"promoted {report.promotions.get('gen0->gen1', 0):,} gen0->gen1, "
        f"{report.promotions.get('gen1->gen2', 0):,} gen1->gen2"
    )
    if report.collections_per_operation is not None:
        lines.append(
            f"  {report.collections_per_operation:.4f} collections per operation "
            f"({report.operations:,} operations)"
        )
    if report.uncollectable.count or report.uncollectable.garbage_growth:
        lines.append(
            f"  uncollectable: {report.uncollectable.count} "
            f"(gc.garbage +{report.uncollectable.garbage_growth}: {report.uncollectable.types})"
        )
    if report.latency is not None and report.latency.calls:
        lat = report.latency
        lines.append(
            f"  latency: {_n(lat.calls_with_gc, 'call')} overlapped a collection, "
            f"p50 {lat.p50_with_ms:.3f} / p99 {lat.p99_with_ms:.3f} ms; "
            f"{lat.calls_without_gc:,} did not, p50 {lat.p50_without_ms:.3f} / "
            f"p99 {lat.p99_without_ms:.3f} ms"
        )
    if report.dropped_collections:
        lines.append(
            f"  note: {report.dropped_collections} collections beyond the recording limit were "
            "counted but not recorded; pause statistics cover the recorded ones"
        )
    return "\n".join(lines)


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"
