"""Change-point candidates over long series, with :func:`memwatch.stats.changepoint.detect_steps`.

``detect_steps`` (PELT with a median check) costs about 0.7 s on 10,000 noisy
points, so a dashboard of 1,000 such series would take minutes. Over long series
this module runs the same detector on less data, without changing its rules:

- the **whole series** as medians of blocks of ``b`` runs (``b`` chosen so at most
  :data:`COARSE_POINTS` blocks remain), each step then placed on its exact run by
  ``detect_steps`` over the full-resolution window of four blocks around it;
- the **oldest and newest** :data:`TAIL_POINTS` runs at full resolution, so a step
  in the first or last few runs (which the blocks' minimum segment of three blocks
  would hide) is found on its first run.

Series of at most :data:`FULL_POINTS` runs go through ``detect_steps`` unchanged. A
search that provably finds nothing (:func:`cannot_step`) is skipped.
Whether a candidate counts is decided afterwards, with the samples either side and
the regression gates' rules (:mod:`memwatch.dashboard.analysis`).
"""

from __future__ import annotations

import math

import numpy as np

from memwatch.stats.changepoint import Step, detect_steps

__all__ = ["COARSE_POINTS", "FULL_POINTS", "TAIL_POINTS", "cannot_step", "find_steps"]

FULL_POINTS = 1000
COARSE_POINTS = 300
TAIL_POINTS = 150


def cannot_step(values: np.ndarray, min_change: float) -> bool:
    """True when ``detect_steps`` provably finds nothing: with positive values, segment
    medians lie between the minimum and the maximum, so a range below ``min_change`` of
    the minimum fails the median check at every boundary (the search is skipped)."""
    if values.size == 0:
        return True
    low = float(values.min())
    return low > 0 and float(values.max()) - low < min_change * low


def _detect(values: np.ndarray, min_change: float, min_size: int = 3) -> tuple[Step, ...]:
    if cannot_step(values, min_change):
        return ()
    return detect_steps(values, min_change=min_change, min_size=min_size)


def find_steps(values: np.ndarray, *, min_change: float = 0.05) -> list[Step]:
    """Steps in ``values`` (oldest first): ``Step.index`` is the first run after the step."""
    n = int(values.size)
    if n <= FULL_POINTS:
        return list(_detect(values, min_change))
    block = math.ceil(n / COARSE_POINTS)
    whole = n // block * block
    coarse = np.median(values[:whole].reshape(-1, block), axis=1)
    found: list[Step] = []
    for step in _detect(coarse, min_change):
        lo = max(0, (step.index - 2) * block)
        hi = min(n, (step.index + 2) * block)
        local = _detect(values[lo:hi], min_change, min(3, block))
        index = lo + local[0].index if local else step.index * block
        if local and len(local) > 1:  # more than one in the window: keep the biggest jump
            biggest = max(local, key=lambda s: abs(s.after - s.before))
            index = lo + biggest.index
        found.append(Step(index, step.before, step.after))
    # The first and last runs at full resolution: three blocks on either side of a
    # coarse step would hide a step that close to an end.
    kept = [s for s in found if 3 * block <= s.index < n - TAIL_POINTS + 3]
    for start in (0, n - TAIL_POINTS):
        for step in _detect(values[start : start + TAIL_POINTS], min_change):
            index = start + step.index
            if all(abs(index - s.index) > block for s in kept):
                kept.append(Step(index, step.before, step.after))
    return sorted(kept, key=lambda s: s.index)
