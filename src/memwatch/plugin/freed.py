"""``assert_freed``: objects that must be gone when the test body ends (the leak engine's watcher)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from memwatch.model.pytest import CheckOutcome

__all__ = ["FreedWatch"]


class FreedWatch:
    """Callable behind the ``assert_freed`` fixture; :meth:`outcome` judges after the body."""

    def __init__(self) -> None:
        self._watcher: Any = None
        self.checked = False
        self.count = 0

    def __call__(self, obj: object, label: str | None = None) -> None:
        from memwatch.leaks.watch import ObjectWatcher

        if self._watcher is None:
            self._watcher = ObjectWatcher()
        self.count += 1
        self._watcher.expect(obj, label or f"{type(obj).__name__} #{self.count}")

    def outcome(self) -> CheckOutcome:
        """Collect garbage and report every watched object that is still alive."""
        from memwatch.model.pytest import CheckOutcome

        self.checked = True
        if self._watcher is None:
            return CheckOutcome("assert_freed", True, detail="nothing watched")
        survivors = list(self._watcher.survivors())
        if not survivors:
            return CheckOutcome("assert_freed", True, detail=f"{self.count} freed")
        lines = [f"assert_freed: {len(survivors)} of {self.count} watched objects outlived the test body"]
        for survivor in survivors:
            lines.append(f"  {_describe(survivor)}")
        return CheckOutcome(
            "assert_freed",
            False,
            measured=float(len(survivors)),
            message="\n".join(lines),
            detail=f"{len(survivors)} survived",
        )


def _describe(survivor: Any) -> str:
    return str(survivor).replace("\n", "\n  ")
