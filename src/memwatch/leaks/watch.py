"""Watch objects that should be freed, in the spirit of Android's LeakCanary.

``expect_freed(obj, "request")`` keeps a *weak* reference to ``obj`` and a label;
later ``assert_freed()`` runs a full collection and, for every watched object still
alive, raises :class:`~memwatch.errors.LeakDetected` naming it and the shortest
reference path from a root (:mod:`memwatch.leaks.paths`). Objects that cannot be
weakly referenced (int, str, tuple, plain list and dict) cannot be watched: watch
the object that owns them instead.
"""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any

from memwatch.errors import ConfigError, LeakDetected
from memwatch.leaks.paths import find_path, type_name
from memwatch.model.leaks import Survivor

__all__ = ["ObjectWatcher", "assert_freed", "default_watcher", "expect_freed"]


class ObjectWatcher:
    """A set of objects expected to be freed; thread-safe."""

    def __init__(self) -> None:
        self._watched: list[tuple[weakref.ref[Any], str, str]] = []
        self._lock = threading.Lock()
        self._count = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._watched)

    def expect(self, obj: Any, label: str | None = None) -> None:
        """Watch ``obj``: it should be freed before the next check."""
        try:
            ref = weakref.ref(obj)
        except TypeError:
            raise ConfigError(
                f"cannot watch a {type(obj).__name__}: it does not support weak "
                "references; watch the object that owns it instead"
            ) from None
        with self._lock:
            self._count += 1
            name = label if label is not None else f"{type_name(obj)}#{self._count}"
            self._watched.append((ref, name, type_name(obj)))

    def clear(self) -> None:
        """Forget every watched object."""
        with self._lock:
            self._watched.clear()

    def survivors(self, *, collect: bool = True, paths: bool = True) -> list[Survivor]:
        """Watched objects still alive after a full collection, with retention paths.

        Freed objects are forgotten; survivors stay watched until :meth:`clear`.
        """
        if collect:
            gc.collect()
        with self._lock:
            self._watched = [entry for entry in self._watched if entry[0]() is not None]
            watched = list(self._watched)
        out: list[Survivor] = []
        for ref, label, tname in watched:
            obj = ref()
            if obj is None:
                continue
            path = find_path(obj) if paths else None
            del obj
            out.append(Survivor(label=label, type_name=tname, retention_path=path))
        return out

    def check(self, *, collect: bool = True) -> None:
        """Raise :class:`LeakDetected` when a watched object survived; then forget them all."""
        alive = self.survivors(collect=collect)
        self.clear()
        if alive:
            lines = [f"{len(alive)} object(s) expected to be freed are still alive:"]
            lines.extend(f"  {survivor}" for survivor in alive)
            raise LeakDetected("\n".join(lines), report=alive)


_DEFAULT = ObjectWatcher()


def default_watcher() -> ObjectWatcher:
    """The process-wide watcher used by :func:`expect_freed` and :func:`assert_freed`."""
    return _DEFAULT


def expect_freed(obj: Any, label: str | None = None, *, watcher: ObjectWatcher | None = None) -> None:
    """Watch ``obj`` (weakly): :func:`assert_freed` fails if it is still alive then."""
    (watcher or _DEFAULT).expect(obj, label)


def assert_freed(watcher: ObjectWatcher | None = None, *, collect: bool = True) -> None:
    """Collect garbage; raise :class:`LeakDetected` naming every watched survivor and its path."""
    (watcher or _DEFAULT).check(collect=collect)
