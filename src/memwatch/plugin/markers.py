"""The plugin's markers: their help text and the levels they run at.

This is all a run without memwatch options loads; parsing the checking markers'
arguments is in :mod:`memwatch.plugin.specs`, loaded only when a test has one.

Levels (``--memwatch-level``): ``quick`` runs the tests without a level marker;
``comprehensive`` adds ``memory_comprehensive``, ``memory_stress``, ``stress``,
``oom``, ``recovery`` and ``slow``; ``nightly`` adds ``memory_long``. Without
``--memwatch-level`` every test runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

__all__ = [
    "CHECK_MARKERS",
    "LEVEL_OF",
    "MARKERS",
    "MEMWATCH_MARKERS",
    "level_skip_reason",
    "marker_names",
    "register_markers",
]

_LEVEL_RANK = {"quick": 0, "comprehensive": 1, "nightly": 2}

#: the lowest --memwatch-level at which a test with this marker runs
LEVEL_OF: dict[str, str] = {
    "memory_comprehensive": "comprehensive",
    "memory_stress": "comprehensive",
    "stress": "comprehensive",
    "oom": "comprehensive",
    "recovery": "comprehensive",
    "slow": "comprehensive",
    "memory_long": "nightly",
}

#: marker signature -> help text (shown by ``pytest --markers``)
MARKERS: dict[str, str] = {
    "memory": "a memory test: recorded with --memwatch; runs at every --memwatch-level",
    "memory_regression(fail_on=None)": "compare the body's peak and growth with this test's baseline in the --memwatch-db history "
    "(this environment); fail on a critical regression or a failed fail_on gate ('peak:10%'); "
    "every level",
    "memory_gc(pause_p95_ms=None, pause_max_ms=None)": "the test body runs under the GC monitor; fails over its own "
    "pause limits (ms) or the [tool.memwatch] gc budget",
    "memory_stress": "a memory stress test; runs at --memwatch-level comprehensive and nightly",
    "memory_comprehensive": "runs at --memwatch-level comprehensive and nightly",
    "memory_long": "a long memory test; runs only at --memwatch-level nightly",
    "slow": "takes more than a few seconds; skipped at --memwatch-level quick",
    "gpu": "needs a visible GPU; skipped with the reason where none is visible",
    "stress": "a stress test; runs at --memwatch-level comprehensive and nightly",
    "oom": "drives a process toward out-of-memory; comprehensive and nightly",
    "recovery": "checks recovery after memory pressure; comprehensive and nightly",
    "limit_memory(limit)": "fail when the test body's peak RSS above its start exceeds limit ('64 MB')",
    "limit_native_memory(limit)": "fail when the body's peak glibc heap in use above its start exceeds limit",
    "no_leaks(max_growth='1 MB', iterations=None, warmup=None, signals=None, time_budget=None)": "run the test body repeatedly through the memwatch leak engine (fixtures set up once) "
    "and fail when it leaks more than max_growth per 1,000 calls",
}

CHECK_MARKERS = frozenset({"limit_memory", "limit_native_memory", "no_leaks", "memory_regression"})
MEMWATCH_MARKERS = frozenset(name.split("(")[0] for name in MARKERS)


def register_markers(config: pytest.Config) -> None:
    for signature, help_text in MARKERS.items():
        config.addinivalue_line("markers", f"{signature}: {help_text}")


def marker_names(item: pytest.Item, inherited: dict[object, tuple[str, ...]]) -> Sequence[str]:
    """The names ``item.iter_markers()`` gives (the test's own markers, then its parents'), with
    the parents' read once per parent: ``inherited`` is a cache kept over one collection."""
    parent = item.parent
    names = inherited.get(parent)
    if names is None:
        names = inherited[parent] = tuple(m.name for m in parent.iter_markers()) if parent is not None else ()
    own = item.own_markers
    return [m.name for m in own] + list(names) if own else names


def level_skip_reason(marker_names: Sequence[str], level: str) -> str:
    """Why a test with these markers does not run at ``level`` ("" when it runs)."""
    for name in marker_names:
        needed = LEVEL_OF.get(name)
        if needed is not None and _LEVEL_RANK[level] < _LEVEL_RANK[needed]:
            return (
                f"@pytest.mark.{name} runs at --memwatch-level {needed}"
                f"{' and nightly' if needed == 'comprehensive' else ''} (this run: {level})"
            )
    return ""
