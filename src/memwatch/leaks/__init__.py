"""Leak detection: repeat an operation, decide with statistics, name who keeps memory alive.

- :mod:`memwatch.leaks.runner`: ``detect_leaks``, ``adetect_leaks``, ``MemoryLeakDetector``
- :mod:`memwatch.leaks.engine`: the measurement protocol (warm-up, rounds, stopping)
- :mod:`memwatch.leaks.attribution`: tracemalloc window, sites, types, survivors
- :mod:`memwatch.leaks.paths`: retention paths from roots
- :mod:`memwatch.leaks.watch`: ``expect_freed``, ``assert_freed``, ``ObjectWatcher``
- :mod:`memwatch.leaks.caches`: reset the interpreter's own caches
- :mod:`memwatch.leaks.isolate`: run the detection in a child process

Import from the defining module, not from here.
"""

from __future__ import annotations

__all__: list[str] = []
