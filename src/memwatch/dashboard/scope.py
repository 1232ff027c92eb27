"""Which runs a dashboard shows (``--env``, ``--branch``, ``--since``), as arrays for fast lookups.

Runs are few next to results (10,000 runs are a few MB), so the scope holds them
all; every series streamed from the database is then cut to the scope's runs with
one ``searchsorted``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from memwatch.errors import DataError, UsageError
from memwatch.model.history import RunInfo

__all__ = ["Scope", "parse_since", "select_runs", "when"]


def when(ts: float) -> str:
    """A run's time for people, in UTC."""
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))


def parse_since(text: str | None) -> float | None:
    """``--since``: an ISO date or date-time (UTC unless it names a zone) -> Unix time."""
    if text is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"invalid --since {text!r}: expected a date such as 2026-11-01 or 2026-11-01T12:00"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def _choices(counts: Counter[str], limit: int = 8) -> str:
    names = [name for name, _ in counts.most_common(limit)]
    more = f" and {len(counts) - limit} more" if len(counts) > limit else ""
    return ", ".join(names) + more


@dataclass
class Scope:
    """The runs in view, oldest first, with per-run arrays indexed by position."""

    runs: list[RunInfo]
    env: str | None = None
    branch: str | None = None
    since: float | None = None
    ids: np.ndarray = field(init=False)
    env_codes: np.ndarray = field(init=False)
    env_names: list[str] = field(init=False)
    kind_codes: np.ndarray = field(init=False)
    newest_of_kind: dict[int, int] = field(init=False)
    position: dict[int, int] = field(init=False)
    _labels: list[list[str]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.ids = np.fromiter((r.id for r in self.runs), dtype=np.int64, count=len(self.runs))
        self.position = {r.id: i for i, r in enumerate(self.runs)}
        names: dict[str, int] = {}
        self.env_codes = np.fromiter(
            (names.setdefault(r.env_key, len(names)) for r in self.runs), dtype=np.int32, count=len(self.runs)
        )
        self.env_names = list(names)
        kinds: dict[str, int] = {}
        self.kind_codes = np.fromiter(
            (kinds.setdefault(r.kind, len(kinds)) for r in self.runs), dtype=np.int32, count=len(self.runs)
        )
        self.newest_of_kind = {
            int(code): int(np.nonzero(self.kind_codes == code)[0][-1]) for code in kinds.values()
        }

    def labels(self) -> tuple[list[str], list[str]]:
        """Each run's date and ``branch@sha`` for hover titles (made once, on first use)."""
        if not self._labels:
            self._labels.append([when(r.created_at) for r in self.runs])
            self._labels.append(
                [
                    "@".join(p for p in (r.git_branch or "", (r.git_sha or "")[:7]) if p) or "–"
                    for r in self.runs
                ]
            )
        return self._labels[0], self._labels[1]

    def positions(self, run_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mask of ``run_ids`` in scope, their positions in :attr:`runs`)."""
        pos = np.searchsorted(self.ids, run_ids)
        pos_clipped = np.minimum(pos, max(self.ids.size - 1, 0))
        mask = (pos < self.ids.size) & (self.ids[pos_clipped] == run_ids) if self.ids.size else pos < 0
        return mask, pos_clipped[mask]

    def describe(self) -> str:
        parts = [f"{len(self.runs)} runs"]
        if self.env:
            parts.append(f"environment {self.env}")
        if self.branch:
            parts.append(f"branch {self.branch}")
        if self.since is not None:
            parts.append(f"since {when(self.since)} UTC")
        return ", ".join(parts)


def select_runs(
    runs: Sequence[RunInfo],
    *,
    where: str,
    env: str | None = None,
    branch: str | None = None,
    since: float | None = None,
    min_runs: int = 2,
) -> Scope:
    """The runs (oldest first) that pass the filters; DataError/UsageError in one line when
    there are none, or fewer than ``min_runs`` (a dashboard of one run shows no change)."""
    if not runs:
        raise DataError(
            f"no runs recorded in {where}: record some first (pytest --memwatch, memwatch validate)"
        )
    chosen = list(runs)
    if env is not None:
        envs = Counter(r.env_key for r in chosen)
        chosen = [r for r in chosen if r.env_key == env]
        if not chosen:
            raise UsageError(f"no runs in environment {env!r} in {where}; recorded: {_choices(envs)}")
    if branch is not None:
        branches = Counter(r.git_branch or "(none)" for r in chosen)
        chosen = [r for r in chosen if r.git_branch == branch]
        if not chosen:
            raise UsageError(f"no runs on branch {branch!r} in {where}; recorded: {_choices(branches)}")
    if since is not None:
        newest = max(r.created_at for r in chosen)
        chosen = [r for r in chosen if r.created_at >= since]
        if not chosen:
            raise UsageError(
                f"no runs since {when(since)} UTC in {where}; the newest is from {when(newest)} UTC"
            )
    if len(chosen) < min_runs:
        raise DataError(
            f"only {len(chosen)} run{'s' if len(chosen) != 1 else ''} in {where}"
            f"{' match' if len(chosen) != len(runs) else ''}: a dashboard needs at least {min_runs} "
            "to show change (record more runs)"
        )
    return Scope(chosen, env, branch, since)
