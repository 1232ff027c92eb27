"""The plugin's markers: their help text and the levels they run at.

This is all a run without memwatch options loads; parsing the checking markers'
arguments is in :mod:`memwatch.plugin.specs`, loaded only when a test has one.

Levels (``--memwatch-level``): ``quick`` runs the tests without a level marker;
``comprehensive`` adds ``memory_comprehensive``, ``memory_stress``, ``stress``,
``oom``, ``recovery`` and ``slow``; ``nightly`` adds ``memory_long``. Without
``--memwatch-level`` every test runs. ``[tool.memwatch.pytest] levels`` moves markers
(memwatch's or the project's own) to another level: :func:`level_map`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence

import pytest

from memwatch.errors import ConfigError

__all__ = [
    "CHECK_MARKERS",
    "LEVEL_OF",
    "MARKERS",
    "MEMWATCH_MARKERS",
    "level_map",
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


def registered_names(config: pytest.Config) -> set[str]:
    """The marker names the run knows: memwatch's and those of the ini file's ``markers``."""
    lines = config.getini("markers")
    return set(MEMWATCH_MARKERS) | {line.split(":", 1)[0].split("(", 1)[0].strip() for line in lines}


def level_map(
    table: Mapping[str, Sequence[str]] | None, known: Iterable[str] = MEMWATCH_MARKERS
) -> dict[str, str]:
    """Marker -> the lowest level it runs at: :data:`LEVEL_OF` with ``table`` (level -> markers,
    from ``[tool.memwatch.pytest] levels``) over it. A marker outside ``known`` (memwatch's and
    the registered ones) is a :class:`~memwatch.errors.ConfigError`: a typo would select nothing."""
    merged = dict(LEVEL_OF)
    known = set(known)
    for level, names in (table or {}).items():
        if level not in _LEVEL_RANK:
            raise ConfigError(f"pytest.levels: unknown level {level!r}; levels are {', '.join(_LEVEL_RANK)}")
        for name in names:
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(
                    f"pytest.levels.{level}: unknown marker {name!r}{hint}; register the project's own "
                    "markers under 'markers' in the pytest ini file"
                )
            merged[name] = level
    return merged


def level_skip_reason(marker_names: Sequence[str], level: str, level_of: Mapping[str, str] = LEVEL_OF) -> str:
    """Why a test with these markers does not run at ``level`` ("" when it runs)."""
    for name in marker_names:
        needed = level_of.get(name)
        if needed is not None and _LEVEL_RANK[level] < _LEVEL_RANK[needed]:
            return (
                f"@pytest.mark.{name} runs at --memwatch-level {needed}"
                f"{' and nightly' if needed == 'comprehensive' else ''} (this run: {level})"
            )
    return ""
