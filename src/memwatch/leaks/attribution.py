"""Attribution, run only once a leak is suspected: how many bytes, where, what, who holds it.

Two short windows, each asking the driver for more calls (a generator, like the
measurement protocol):

1. **tracemalloc window** (costs ~3-6x per call while on): ``rounds`` batches with a
   full collection and a reading of traced bytes, allocated blocks and the native
   heap after each; a snapshot before and after, diffed by traceback. The traced
   bytes give the Python heap's growth per call (Theil–Sen with its interval); the
   snapshot diff gives the allocation sites of the *retained* memory. It also
   confirms the leak: a deciding signal that stops growing here was a filling
   structure, not a leak.
2. **survivor window** (no tracemalloc): one batch with the collector disabled, so
   every new container object stays in the young generation; after a full
   collection, the new objects still alive are the leaked ones. Their types give
   "type growth", and a few samples get a retention path
   (:mod:`memwatch.leaks.paths`). Only gc-tracked objects are seen this way
   (containers and instances, not bare ints or strings).
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import gc
import math
import os
import sys
import time
import tracemalloc
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memwatch.leaks.engine import settle
from memwatch.leaks.paths import find_path, type_name
from memwatch.model.leaks import RetainedSite, RetentionPath, TypeGrowth
from memwatch.probes import native
from memwatch.stats.trend import Trend, assess

__all__ = ["Attribution", "attribute"]

_OWN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WINDOW_SIGNALS = ("py_heap", "py_blocks", "native_heap")


@dataclass
class Attribution:
    """What the attribution windows found; ``window`` holds per-round readings."""

    calls: int = 0
    batch: int = 1
    window: dict[str, np.ndarray] = field(default_factory=dict)
    trends: dict[str, Trend] = field(default_factory=dict)
    sites: tuple[RetainedSite, ...] = ()
    types: tuple[TypeGrowth, ...] = ()
    paths: tuple[RetentionPath, ...] = ()
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def _read(row: np.ndarray) -> None:
    row[0] = tracemalloc.get_traced_memory()[0]
    row[1] = sys.getallocatedblocks()
    row[2] = native.native_heap_bytes() if not native.native_reason() else np.nan


def window_batch(batch: int) -> int:
    """Calls per window round: the measurement's batch, capped at 200 (traces are costly)."""
    return batch if batch <= 200 else 200


def attribute(
    batch: int,
    *,
    rounds: int = 7,
    detail: bool = True,
    nframes: int = 10,
    max_paths: int = 3,
    freeze: bool = False,
    seconds: float = math.inf,
    clock: Callable[[], float] = time.perf_counter,
) -> Generator[int, None, Attribution]:
    """Run the windows (see the module docstring); yields batch sizes.

    ``freeze``: the caller owns the frozen generation (see :func:`memwatch.leaks.engine.measure`);
    it is used to make collections cheap and unfrozen before retention paths are searched.
    ``seconds`` is the time left in the caller's budget: the window stops its rounds
    early and the survivor batch shrinks so that the whole attribution fits (a note
    says what was cut); a trend needs at least 3 window rounds, else the window only
    gives the allocation sites.
    """
    began = clock()
    deadline = began + seconds
    batch = window_batch(batch)
    out = Attribution(batch=batch)
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start(nframes)
    readings = np.full((rounds + 1, len(WINDOW_SIGNALS)), np.nan)
    before = after = None
    done = 0
    per_call = 0.0
    try:
        t0 = clock()
        yield batch  # let tracemalloc's own start-up allocations settle
        per_call = (clock() - t0) / batch  # a traced call
        settle(freeze)
        if detail:
            before = tracemalloc.take_snapshot()
        _read(readings[0])
        for rnd in range(1, rounds + 1):
            # keep the time for this round, and for the survivor batch after the window
            if clock() + per_call * batch * (2 if detail else 1) > deadline:
                break
            yield batch
            gc.collect()
            _read(readings[rnd])
            done = rnd
        if detail:
            after = tracemalloc.take_snapshot()
    finally:
        if started:
            tracemalloc.stop()
    if done < rounds:
        out.notes.append(
            f"the attribution window ran {done} of {rounds} rounds to stay within the time budget"
        )
    readings = readings[: done + 1]
    rounds = done
    out.calls = batch * (rounds + 1)
    calls_axis = np.arange(rounds + 1, dtype=np.float64) * batch
    for i, name in enumerate(WINDOW_SIGNALS):
        series = readings[:, i]
        if np.isnan(series).any() or rounds < 3:
            continue
        out.window[name] = series
        out.trends[name] = assess(series, calls_axis, stretches=min(4, rounds), alpha=0.05)
    if before is not None and after is not None and rounds > 0:
        out.sites = _sites(before, after, batch * rounds)
    del before, after
    if detail:
        # an untraced call costs about a third of a traced one; keep 0.15 s for the paths
        left = deadline - clock() - 0.15
        affordable = int(left / max(per_call / 3, 1e-9)) if math.isfinite(left) else 1 << 30
        extra = min(max(batch, 20), affordable)
        if extra >= 2:
            budget = min(0.15, max(deadline - clock(), 0.0))
            out.types, out.paths = yield from _survivors(extra, max_paths, freeze, budget)
            out.calls += extra
        else:
            out.notes.append("no time was left in the time budget to look for retention paths")
    out.seconds = clock() - began
    return out


def _sites(
    before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, calls: int, top: int = 5
) -> tuple[RetainedSite, ...]:
    stats = [
        stat
        for stat in after.compare_to(before, "traceback")
        if stat.size_diff > 0 and not _own_file(stat.traceback[-1].filename)
    ]
    total = sum(stat.size_diff for stat in stats)
    out: list[RetainedSite] = []
    for stat in stats:
        if stat.size_diff < 0.01 * total:
            break
        # A Traceback lists the oldest frame first; memwatch's own frames are dropped.
        frames = [f for f in stat.traceback if not _own_file(f.filename)]
        recent = frames[-1]
        out.append(
            RetainedSite(
                location=f"{recent.filename}:{recent.lineno}",
                bytes_per_iteration=stat.size_diff / calls,
                objects_per_iteration=stat.count_diff / calls,
                traceback=tuple(f"{f.filename}:{f.lineno}" for f in reversed(frames)),
            )
        )
        if len(out) >= top:
            break
    return tuple(out)


def _own_file(filename: str) -> bool:
    return filename.startswith(_OWN_DIR) or filename == tracemalloc.__file__


def _survivors(
    calls: int, max_paths: int, freeze: bool, budget: float = 0.15
) -> Generator[int, None, tuple[tuple[TypeGrowth, ...], tuple[RetentionPath, ...]]]:
    # Everything alive now goes out of the way (frozen, or listed by id); the collector is
    # off during the batch, so new container objects stay young; a collection of the young
    # generation then frees the batch's garbage and leaves the survivors.
    settle(freeze)
    old: set[int] = set() if freeze else {id(obj) for obj in gc.get_objects()}
    was_enabled = gc.isenabled()
    gc.disable()
    registered: dict[int, str] = {}
    try:
        with _recording_atexit(registered):
            yield calls
        gc.collect(0)
        young = (
            gc.get_objects(generation=1) + gc.get_objects(generation=2)
            if not freeze
            else gc.get_objects(generation=1)
        )
    finally:
        if was_enabled:
            gc.enable()
    if freeze:
        gc.unfreeze()
    survivors = [obj for obj in young if id(obj) not in old and not _ours(obj)]
    del young
    old.clear()
    counts = collections.Counter(type_name(obj) for obj in survivors)
    # A type seen once may be a one-time allocation; a leak "every 10th call" shows twice.
    counts = collections.Counter({name: n for name, n in counts.items() if n >= 2})
    types = tuple(
        TypeGrowth(type_name=name, per_iteration=count / calls, before=0, after=count)
        for name, count in counts.most_common(8)
    )
    # Sample the newest object of each growing type, the application's own types first.
    ranked = sorted(counts, key=lambda name: ("." not in name, -counts[name]))
    samples: list[object] = []
    inside: set[int] = set()  # objects held by an earlier sample: their path adds nothing
    for name in ranked:
        if len(samples) >= max_paths:
            break
        sample = next(obj for obj in reversed(survivors) if type_name(obj) == name)
        if id(sample) in inside:
            continue
        samples.append(sample)
        inside.update(_held_by(sample, depth=3))
    del survivors
    paths = _paths_to(samples, max_paths, registered, budget)
    del samples
    if not paths:
        grown, direct = yield from _growing_containers(calls)
        paths = (_paths_to(grown, max_paths) + tuple(direct))[:max_paths]
        del grown
    return types, paths


def _held_by(obj: object, depth: int) -> set[int]:
    """Ids of the objects ``obj`` refers to, transitively, up to ``depth`` steps."""
    seen: set[int] = set()
    level = [obj]
    for _ in range(depth):
        nxt = []
        for item in level:
            for ref in gc.get_referents(item):
                if id(ref) not in seen and not isinstance(ref, type):
                    seen.add(id(ref))
                    nxt.append(ref)
        level = nxt[:1000]
    return seen


@contextlib.contextmanager
def _recording_atexit(registered: dict[int, str]) -> Iterator[None]:
    """Note the callbacks (and their arguments) given to ``atexit.register`` meanwhile.

    The interpreter keeps them in a C array no referrer search can see; knowing them
    turns a "gc root" into ``atexit.register(app.Conn.close)``. Code that bound
    ``register`` before the window (``from atexit import register``) is not seen.
    """
    real = atexit.register

    def register(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        name = getattr(func, "__qualname__", None) or type(func).__qualname__
        text = f"atexit.register({getattr(func, '__module__', None) or '?'}.{name})"
        for held in (func, *args, *kwargs.values()):
            registered.setdefault(id(held), text)
        return real(func, *args, **kwargs)

    atexit.register = register
    try:
        yield
    finally:
        atexit.register = real


def _paths_to(
    samples: list[object],
    limit: int,
    registered: dict[int, str] | None = None,
    budget: float = 0.15,
) -> tuple[RetentionPath, ...]:
    """One path per distinct root, library-internal roots last.

    Each search level scans the heap, so after the first sample the searches stop once
    ``budget`` seconds are spent: the first path is the one that matters most.
    """
    paths: list[RetentionPath] = []
    roots: set[str] = set()
    began = time.perf_counter()
    for index, sample in enumerate(samples):
        if index and time.perf_counter() - began > budget:
            break
        path = find_path(sample, {id(samples)}, max_depth=8, registered=registered)
        if path is not None and path.chain[0] not in roots:
            roots.add(path.chain[0])
            paths.append(path)
    paths.sort(key=lambda p: p.internal)
    return tuple(paths[:limit])


_CONTAINERS = (list, dict, set, collections.deque)


def _module_containers() -> dict[int, tuple[object, str]]:
    """Containers bound to module globals, with their name (``module app.cache._STORE``).

    CPython stops tracking a dict whose keys and values are all atomic (strings, bytes,
    numbers), so ``gc.get_objects()`` never lists a module-level cache of bytearrays:
    module dictionaries are read directly for those.
    """
    found: dict[int, tuple[object, str]] = {}
    for module_name, module in list(sys.modules.items()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict) or module_name.startswith("memwatch"):
            continue
        for name, value in list(namespace.items()):
            if type(value) in _CONTAINERS:
                found.setdefault(id(value), (value, f"module {module_name}.{name}"))
    return found


def _growing_containers(
    calls: int, top: int = 3
) -> Generator[int, None, tuple[list[object], list[RetentionPath]]]:
    """Items of the containers that grew during ``calls`` calls, and direct paths.

    For leaked objects the collector does not track (numpy arrays, strings, tuples of
    numbers) the survivors window sees nothing; the container they are added to does
    grow. Tracked containers' newest items get a path search; an untracked container
    bound to a module global gets its path written directly (the search walks
    referrers, which never include an untracked container). Costs one pass over the
    heap before and after (sizes are compared; a garbage container does not grow).
    """
    sizes = {id(obj): len(obj) for obj in gc.get_objects() if type(obj) in _CONTAINERS}
    named = _module_containers()
    named_sizes = {
        key: len(obj)  # type: ignore[arg-type]
        for key, (obj, _) in named.items()
        if key not in sizes
    }
    yield calls
    grown: list[tuple[int, object]] = []
    for obj in gc.get_objects():
        if type(obj) in _CONTAINERS and id(obj) in sizes:
            delta = len(obj) - sizes[id(obj)]
            if delta >= 2:
                grown.append((delta, obj))
    direct: list[tuple[int, RetentionPath]] = []
    for key, before in named_sizes.items():
        obj, label = named[key]
        delta = len(obj) - before  # type: ignore[arg-type]
        item = _newest_item(obj)
        if delta >= 2 and item is not obj:
            direct.append((delta, _direct_path(label, obj, item)))
    sizes.clear()
    named.clear()
    grown.sort(key=lambda pair: -pair[0])
    direct.sort(key=lambda pair: -pair[0])
    out: list[object] = []
    for _delta, container in grown[:top]:
        out.append(_newest_item(container))
    del grown
    return out, [path for _delta, path in direct[:top]]


def _direct_path(label: str, container: object, item: object) -> RetentionPath:
    if isinstance(container, dict):
        key = next(reversed(container))
        text = repr(key)
        step = f"dict[{text if len(text) <= 40 else text[:37] + '...'}]"
    elif isinstance(container, list | collections.deque):
        step = f"{type(container).__name__}[{len(container) - 1}]"
    else:
        step = f"{type(container).__name__} member"
    module = label.split(" ", 1)[1].rsplit(".", 1)[0]
    from memwatch.leaks.paths import is_internal_module

    return RetentionPath(
        target=type_name(item),
        root_kind="module",
        chain=(label, step, type(item).__qualname__),
        internal=is_internal_module(module),
    )


def _newest_item(container: object) -> object:
    if isinstance(container, list | collections.deque) and container:
        return container[-1]
    if isinstance(container, dict) and container:
        return next(reversed(container.values()))
    return container


def _ours(obj: object) -> bool:
    module = getattr(type(obj), "__module__", "") or ""
    if module.startswith("memwatch"):
        return True
    code = getattr(obj, "f_code", None) or getattr(obj, "gi_code", None)
    filename = getattr(code, "co_filename", "")
    return isinstance(filename, str) and filename.startswith(_OWN_DIR)
