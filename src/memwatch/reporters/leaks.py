"""The text of a leak report: its one-line summary, its explanation, one signal's line.

Words mean one thing: ``LEAK`` heads only a failing verdict (growth over the budget, or
of file descriptors or threads). Growth within the budget reads as what it is, and the
budget reads as the user typed it::

    LEAK (trace, python) in app:handle: grows 444 B per call, 433.6 KiB per 1,000 calls: over the budget of 100 kB
    app:handle grows 137 B per call, 133.8 KiB per 1,000 calls: within the budget of 1 MB (python memory)
    no leak in app:handle: no signal grew on every stretch (py_blocks flat, ...)
    inconclusive for app:handle: only 3 rounds of about 10 calls fit in the time budget of 1 s; ...
"""

from __future__ import annotations

from memwatch.model.leaks import RESOURCE_KINDS, GrowthEstimate, LeakReport
from memwatch.units import exact_size, format_value

__all__ = ["budget_text", "describe_estimate", "explain", "summary"]

_COUNT_WORDS = {"py_blocks": "blocks", "fds": "fds", "threads": "threads"}
_RESOURCE_WORDS = {"fds": "file descriptors", "threads": "threads"}


def budget_text(report: LeakReport) -> str:
    """The budget per 1,000 calls as the user typed it, else in its exact unit (``1 MB``)."""
    return report.max_growth_text or exact_size(report.max_growth)


def _amount(est: GrowthEstimate, value: float) -> str:
    if est.unit == "bytes":
        return format_value(value, "bytes", signed=True)
    return f"{format_value(value, 'count', signed=True)} {_COUNT_WORDS.get(est.signal, est.unit)}"


def describe_estimate(est: GrowthEstimate) -> str:
    """``py_blocks: +2 blocks per call [+1.8 blocks .. +2.2 blocks], growing, p=1e-05``."""
    return (
        f"{est.signal}: {_amount(est, est.per_iteration)} per call "
        f"[{_amount(est, est.low)} .. {_amount(est, est.high)}], {est.shape}, p={est.p_value:.2g}"
    )


def _rates(report: LeakReport) -> str:
    return (
        f"grows {format_value(report.bytes_per_iteration, 'bytes/call')}, "
        f"{format_value(report.bytes_per_iteration * 1000.0, 'bytes/1000 calls')}"
    )


def summary(report: LeakReport) -> str:
    """One line: the verdict, the rate and the budget."""
    target = report.target
    if report.verdict == "leak" and report.kind in RESOURCE_KINDS:
        per = report.resources_per_iteration
        return (
            f"LEAK ({report.severity}, {report.kind}) in {target}: "
            f"{format_value(per, 'count', signed=True)} {report.kind} per call, "
            f"{format_value(per * 1000, 'count')} {_RESOURCE_WORDS[report.kind]} per 1,000 calls: "
            "never within a budget (the process runs out of them)"
        )
    if report.verdict == "leak":
        return (
            f"LEAK ({report.severity}, {report.kind}) in {target}: {_rates(report)}: "
            f"over the budget of {budget_text(report)}"
        )
    if report.verdict == "growth":
        return f"{target} {_rates(report)}: within the budget of {budget_text(report)} ({report.kind} memory)"
    if report.verdict == "clean":
        return f"no leak in {target}: {report.reason}"
    return f"inconclusive for {target}: {report.reason}"


def explain(report: LeakReport) -> str:
    """The summary, then how it was decided: signals, sites, types, retention paths, notes."""
    lines = [summary(report)]
    if report.verdict in ("leak", "growth"):
        lines.append(f"  decided by {report.deciding_signal}: {report.reason}")
    lines.append(
        f"  measured {report.iterations:,} calls in {report.rounds} rounds of about "
        f"{report.batch_size:,} after {report.warmup_iterations:,} warm-up calls, "
        f"{format_value(report.seconds_per_call, 'seconds')} per call, "
        f"{format_value(report.duration, 'seconds')} total"
    )
    if report.signals:
        lines.append("  signals:")
    for est in report.signals:
        lines.append(f"   {'*' if est.decided else ' '} {describe_estimate(est)}")
        if est.note:
            lines.append(f"       {est.note}")
    if report.sites:
        lines.append("  allocation sites of the retained memory:")
        lines.extend(
            f"    {site.location}: {format_value(site.bytes_per_iteration, 'bytes/call')}, "
            f"{site.objects_per_iteration:.3g} objects per call"
            for site in report.sites
        )
    if report.types:
        lines.append("  growing types (objects kept per call):")
        lines.extend(
            f"    {t.type_name}: {format_value(t.per_iteration, 'count', signed=True)} "
            f"({t.after - t.before:,} kept in the survivors window)"
            for t in report.types
        )
    if report.retention_paths:
        lines.append("  kept alive by:")
        lines.extend(
            f"    {path}" + ("  (library-internal)" if path.internal else "")
            for path in report.retention_paths
        )
    lines.extend(f"  note: {note}" for note in report.notes)
    return "\n".join(lines)
