"""Tuning advice from a measured GC report: thresholds, ``gc.freeze()``, uncollectable objects.

Each recommendation carries the measured reason. The rules, and what they assume:

- freeze: a full (gen-2) collection traverses every tracked object, so its pause
  grows with the long-lived heap. When gen-2 pauses reach ``long_pause_ms`` while at
  least ``min_objects`` objects are tracked and none are frozen, ``gc.freeze()``
  after warm-up takes those objects out of every later collection. (Measured here:
  a gen-2 pause with a million long-lived objects, gone after a freeze; see
  BENCHMARKS.md.) It assumes the objects alive at the freeze stay alive: frozen
  garbage is never collected.
- raise threshold0: when young collections (gen 0 and 1) take at least
  ``share_limit`` of wall time and at least 10% of the objects they examine
  survive (estimated promotions over examined), that traversal is wasted and is
  repeated in the older generations; collecting 4x (10x above 50% survival) less
  often lets more of those objects die by reference counting first.
- avoid cycles: when those young collections free most of what they examine, the
  collector is doing needed work: the workload makes reference cycles, and only
  breaking them (weak back-references) removes the cost.
- fix uncollectable: anything left in ``gc.garbage`` is a leak no tuning cures.
"""

from __future__ import annotations

from memwatch.model.gc import GCAdvice, GCRecommendation, GCReport

__all__ = ["advise"]

MAX_THRESHOLD0 = 100_000
SURVIVAL_LOW = 0.10  # below this, young collections waste little traversal on survivors
SURVIVAL_HIGH = 0.50  # above this, most of their work is repeated later: collect 10x less often
FREED_HIGH = 0.50  # above this, young collections are mostly freeing reference cycles


def _freeze(report: GCReport, long_pause_ms: float, min_objects: int) -> GCRecommendation | None:
    g2 = report.pauses["gen2"]
    if not g2.count or g2.max_ms < long_pause_ms:
        return None
    tracked = report.tracked_objects
    if report.frozen_objects:
        return GCRecommendation(
            "freeze",
            f"full (gen-2) collections ({g2.count:,}) still paused up to "
            f"{g2.max_ms:.1f} ms with {report.frozen_objects:,} objects already frozen: "
            "the long-lived objects created after the freeze are traversed; "
            "freeze later, after they exist",
        )
    if tracked is not None and tracked < min_objects:
        return None
    what = "1 full (gen-2) collection" if g2.count == 1 else f"{g2.count:,} full (gen-2) collections"
    text = f"{what} paused up to {g2.max_ms:.1f} ms (p50 {g2.p50_ms:.1f} ms)"
    if tracked:
        text += (
            f" while {tracked:,} objects were tracked (about {g2.max_ms * 1e6 / tracked:.0f} ns per object)"
        )
    text += (
        "; call gc.freeze() once the long-lived objects exist (after warm-up): frozen objects "
        "move to a permanent generation that no collection traverses"
    )
    return GCRecommendation("freeze", text)


def _young(report: GCReport, share_limit: float) -> list[GCRecommendation]:
    thresholds = report.interpreter.thresholds
    young = [report.pauses["gen0"], report.pauses["gen1"]]
    share = sum(p.share for p in young)
    count = sum(p.count for p in young)
    ev = report.events
    gen0 = ev.generation == 0
    examined = float(ev.young_count[gen0].sum()) if len(ev) else 0.0
    if share < share_limit or not count or not examined:
        return []
    survival = report.promotions.get("gen0->gen1", 0) / examined
    freed = float(ev.collected[gen0].sum()) / examined
    per_op = (
        f", {report.collections_per_operation:.3f} per operation"
        if report.collections_per_operation is not None
        else ""
    )
    head = f"young collections (gen 0/1) took {share:.1%} of wall time ({count:,} of them{per_op})"
    recs = []
    if thresholds and thresholds[0] > 0 and survival >= SURVIVAL_LOW:
        factor = 10 if survival >= SURVIVAL_HIGH else 4
        new0 = min(thresholds[0] * factor, MAX_THRESHOLD0)
        if new0 > thresholds[0]:
            recs.append(
                GCRecommendation(
                    "raise_threshold0",
                    f"{head} and about {survival:.0%} of the objects they examined survived (estimated), work "
                    f"that is repeated in the older generations; raising threshold0 from {thresholds[0]:,} to "
                    f"{new0:,} on Python {report.interpreter.version} makes them about "
                    f"{new0 // thresholds[0]}x rarer",
                    thresholds=(new0, *thresholds[1:]),
                )
            )
    if freed >= FREED_HIGH:
        recs.append(
            GCRecommendation(
                "avoid_cycles",
                f"{head} and freed about {freed:.0%} of the objects they examined: the workload makes "
                "reference cycles that only the collector can free; a weakref for back-references (or "
                "clearing them when done) lets reference counting free them at once, while thresholds "
                "only change how the same work is batched",
            )
        )
    return recs


def advise(
    report: GCReport, *, long_pause_ms: float = 10.0, min_objects: int = 100_000, share_limit: float = 0.02
) -> GCAdvice:
    """Recommend thresholds and/or ``gc.freeze()`` for ``report``, each with its measured reason."""
    frozen = _freeze(report, long_pause_ms, min_objects)
    recs = ([frozen] if frozen is not None else []) + _young(report, share_limit)
    unc = report.uncollectable
    if unc.count or unc.garbage_growth:
        recs.append(
            GCRecommendation(
                "fix_uncollectable",
                f"{max(unc.count, unc.garbage_growth):,} objects "
                f"could not be freed and stay in gc.garbage (types {unc.types}); "
                "no tuning frees them: break their cycles",
            )
        )
    if not recs:
        allp = report.pauses["all"]
        plural = "" if allp.count == 1 else "s"
        recs.append(
            GCRecommendation(
                "keep",
                f"GC took {allp.share:.2%} of wall time over {allp.count:,} "
                f"collection{plural}, longest pause {allp.max_ms:.2f} ms: "
                "no tuning needed",
            )
        )
    thresholds = next((r.thresholds for r in recs if r.thresholds is not None), None)
    return GCAdvice(
        recommendations=tuple(recs),
        thresholds=thresholds,
        freeze=any(r.action == "freeze" and not report.frozen_objects for r in recs),
    )
