"""Memory over labelled snapshots, as a PNG or SVG (matplotlib, loaded only here)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from memwatch.errors import UsageError
from memwatch.model.snapshots import SnapshotPoint

__all__ = ["plot_snapshots"]

_MIB = float(2**20)


def plot_snapshots(points: Sequence[SnapshotPoint], path: str | os.PathLike[str], *, title: str = "") -> Path:
    """Draw traced memory and RSS at each snapshot, labelled, and save to ``path``."""
    if not points:
        raise UsageError("no snapshots to plot: take some with take_snapshot(label) first")
    target = Path(path)
    if target.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise UsageError(f"cannot plot to {target}: use a .png, .svg or .pdf file name")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = list(range(len(points)))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(points) + 2), 4.2), dpi=110)
    try:
        ax.plot(xs, [p.rss / _MIB for p in points], marker="o", label="RSS", color="#29335c")
        ax.plot(
            xs, [p.traced / _MIB for p in points], marker="s", label="traced (tracemalloc)", color="#e4572e"
        )
        for x, p in zip(xs, points, strict=True):
            ax.annotate(
                f"{p.traced / _MIB:.1f}",
                (x, p.traced / _MIB),
                textcoords="offset points",
                xytext=(0, 7),
                ha="center",
                fontsize=8,
                color="#e4572e",
            )
        ax.set_xticks(
            xs,
            [p.label for p in points],
            rotation=30 if len(points) > 5 else 0,
            ha="right" if len(points) > 5 else "center",
        )
        ax.set_ylabel("MiB")
        ax.set_title(title or "memory at each snapshot")
        ax.grid(alpha=0.3)
        ax.legend(loc="best")
        fig.tight_layout()
        fig.savefig(target)
    finally:
        plt.close(fig)
    return target
