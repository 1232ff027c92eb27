"""Retention paths: the shortest chain of references from a root to a live object.

The search walks *backwards* from the object, one breadth-first level at a time;
each level is one :func:`gc.get_referrers` call (a scan of the tracked heap), so a
path of length d costs d scans, not one per object. It stops at the first root:

- a module (``module app.cache._STORE``; ``sys.modules['name']`` for a module made by
  hand) or a class (``class app.Registry.items``),
- a well-known registry, named the way its user wrote it: a ``functools.lru_cache``
  wrapper (``functools.lru_cache of app.render (maxsize=None), 4,210 entries``),
  ``sys.modules['name']``, ``logging.getLogger('name')``, ``atexit.register(hook)``
  (callbacks recorded while the survivor window ran) and the ``weakref.finalize``
  registry,
- a local variable of a frame on some thread's stack (``thread MainThread:
  handler() local 'pending'``), found by reading the stacks' locals once,
- failing those, an object nothing tracked refers to (held by C code: a "gc root").

memwatch's own frames and bookkeeping containers are ignored. Paths print as
readable chains with names, not ids: ``module app.cache._STORE -> dict['u42'] ->
list[3] -> Session``.
"""

from __future__ import annotations

import collections
import functools
import gc
import os
import sys
import threading
import types
from collections.abc import Iterable, Mapping
from typing import Any

from memwatch.model.leaks import RetentionPath

__all__ = ["find_path", "is_internal_module", "type_name"]

_LRU_WRAPPER = type(functools.lru_cache(maxsize=None)(lambda: None))

_OWN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_INTERNAL_PREFIXES = ("memwatch", "_pytest", "pytest", "pluggy", "importlib", "asyncio", "logging")


def type_name(obj: Any) -> str:
    """``module.Qualname`` for user types, the bare name for builtins."""
    cls = obj if isinstance(obj, type) else type(obj)
    module = getattr(cls, "__module__", "builtins")
    return cls.__qualname__ if module in ("builtins", None) else f"{module}.{cls.__qualname__}"


def is_internal_module(name: str) -> bool:
    """True for the standard library, memwatch and the test runner (shown last)."""
    top = name.split(".", 1)[0]
    return top in sys.stdlib_module_names or name.startswith(_INTERNAL_PREFIXES)


def _own_frame(frame: types.FrameType) -> bool:
    return frame.f_code.co_filename.startswith(_OWN_DIR)


class _Stacks:
    """Thread stacks read once: the frames (kept alive here) and their locals by value id."""

    def __init__(self) -> None:
        names = {t.ident: t.name for t in threading.enumerate()}
        self.frames: list[types.FrameType] = []
        self.locals: dict[int, str] = {}
        self.ignore: set[int] = set()
        for ident, top in sys._current_frames().items():
            frame: types.FrameType | None = top
            while frame is not None:
                self.frames.append(frame)
                if not _own_frame(frame) and frame.f_code.co_name != "<module>":
                    frame_locals = frame.f_locals
                    self.ignore.add(id(frame_locals))
                    where = f"thread {names.get(ident, ident)}: {frame.f_code.co_name}()"
                    for var, value in frame_locals.items():
                        self.locals.setdefault(id(value), f"{where} local {var!r}")
                frame = frame.f_back
        self.registered: dict[int, str] = {}
        self.ignore.update({id(self.frames), id(self.locals)})


def find_path(
    target: Any,
    ignore: Iterable[int] = (),
    *,
    max_depth: int = 12,
    max_frontier: int = 40,
    registered: Mapping[int, str] | None = None,
) -> RetentionPath | None:
    """The shortest retention path found to ``target``, or None when nothing holds it.

    ``ignore`` holds ids of the caller's own containers that refer to the target;
    ``registered`` maps ids of objects held by C-level registries (atexit) to the
    root's text.
    """
    stacks = _Stacks()
    stacks.registered = dict(registered or {})
    toward: dict[int, Any] = {id(target): None}
    frontier: list[Any] = [target]
    skip = set(ignore) | stacks.ignore | {id(toward)}
    orphan: Any = None
    # A local variable is a root, but a module or class one level further explains more
    # (a handler's local `cache` usually *is* app.cache._STORE): look one level on.
    local: tuple[Any, str] | None = None
    local_level = 0
    try:
        # A leaked class or module is what is kept, not what keeps it: look for its holder.
        root = None if isinstance(target, type | types.ModuleType) else _root_of(target, stacks)
        if root is not None and not root.startswith("thread:"):
            return _build(target, toward, root, target)
        if root is not None:
            local = (target, root)
        for level in range(max_depth):
            if local is not None and level > local_level + 1:
                break
            skip.add(id(frontier))
            referrers = gc.get_referrers(*frontier)
            skip.add(id(referrers))
            held: set[int] = set()  # frontier objects that something (ours aside) refers to
            nxt: list[Any] = []
            for ref in referrers:
                if id(ref) in skip:
                    continue
                if isinstance(ref, types.FrameType) and _own_frame(ref):
                    continue
                child = _child_of(ref, frontier)
                if child is None:
                    continue
                held.add(id(child))
                if id(ref) in toward:
                    continue
                toward[id(ref)] = child
                root = _root_of(ref, stacks)
                if root is not None and not root.startswith("thread:"):
                    return _build(ref, toward, root, target)
                if root is not None and local is None:
                    local, local_level = (ref, root), level + 1
                nxt.append(ref)
            if orphan is None:
                orphan = next((obj for obj in frontier if id(obj) not in held), None)
            if not nxt:
                break
            frontier = _diverse(nxt, max_frontier)
        if local is not None:
            return _build(local[0], toward, local[1], target)
        if orphan is None:
            return None
        return _build(orphan, toward, "gc", target)
    finally:
        del frontier, toward


def _diverse(candidates: list[Any], limit: int, per_type: int = 6) -> list[Any]:
    """At most ``limit`` candidates, at most ``per_type`` of one type: a thousand loggers
    referring to one manager must not crowd out the one class dict that leads to a root."""
    kept: list[Any] = []
    seen: dict[type, int] = {}
    for obj in candidates:
        count = seen.get(type(obj), 0)
        if count < per_type:
            seen[type(obj)] = count + 1
            kept.append(obj)
            if len(kept) >= limit:
                break
    return kept


def _child_of(ref: Any, frontier: list[Any]) -> Any:
    referents = {id(obj) for obj in gc.get_referents(ref)}
    for obj in frontier:
        if id(obj) in referents:
            return obj
    return None


def _logger_dict() -> Any:
    logging = sys.modules.get("logging")
    manager = getattr(getattr(logging, "Logger", None), "manager", None)
    return getattr(manager, "loggerDict", None)


def _root_of(obj: Any, stacks: _Stacks) -> str | None:
    if isinstance(obj, types.ModuleType):
        return "module"
    if isinstance(obj, type):
        return "class"
    if isinstance(obj, _LRU_WRAPPER):
        return "lru"
    if obj is sys.modules:
        return "sysmodules"
    if isinstance(obj, dict) and obj is _logger_dict():
        return "logging"
    if id(obj) in stacks.registered:
        return "registered:" + stacks.registered[id(obj)]
    if id(obj) in stacks.locals:
        return "thread:" + stacks.locals[id(obj)]
    return None


def _build(start: Any, toward: dict[int, Any], root: str, target: Any) -> RetentionPath:
    chain_objs = [start]
    node = toward.get(id(start))
    while node is not None:
        chain_objs.append(node)
        node = toward.get(id(node))
    kind = root.split(":", 1)[0]
    parts, i, internal = _head(kind, root, chain_objs)
    while i < len(chain_objs) - 1:
        text, skip = _edge(chain_objs[i], chain_objs[i + 1], chain_objs[i + 2 : i + 4])
        parts.append(text)
        i += 1 + skip
    parts.append(type(target).__qualname__)
    return RetentionPath(target=type_name(target), root_kind=kind, chain=tuple(parts), internal=internal)


def _module_label(module: types.ModuleType) -> str:
    """``module name`` for an imported module, ``sys.modules['key']`` for one made by hand."""
    name = module.__name__
    if getattr(module, "__spec__", None) is not None and sys.modules.get(name) is module:
        return f"module {name}"
    key = next((k for k, m in list(sys.modules.items()) if m is module), None)
    return f"sys.modules[{key!r}]" if key is not None else f"module {name} (not in sys.modules)"


def _head(kind: str, root: str, chain: list[Any]) -> tuple[list[str], int, bool]:
    """The root's text, how many chain nodes it covers, and whether it is library-internal."""
    head = chain[0]
    second = chain[1] if len(chain) > 1 else None
    third = chain[2] if len(chain) > 2 else None
    if kind in ("module", "class"):
        module_name = head.__name__ if kind == "module" else head.__module__
        internal = is_internal_module(module_name)
        if kind == "module":
            name = _module_label(head)
        elif head is getattr(sys.modules.get("weakref"), "finalize", None):
            return ["weakref.finalize registry"], 3 if third is not None else 1, False
        else:
            name = f"class {type_name(head)}"
        if isinstance(second, dict) and third is not None:
            key = _dict_key(second, third)
            if key is not None:
                return [f"{name}.{key if isinstance(key, str) else repr(key)}"], 2, internal
        return [name], 1, internal
    if kind == "lru":
        wrapped = getattr(head, "__wrapped__", head)
        owner = f"{getattr(wrapped, '__module__', '?')}.{getattr(wrapped, '__qualname__', '?')}"
        info = head.cache_info()
        text = f"functools.lru_cache of {owner} (maxsize={info.maxsize}), {info.currsize:,} entries"
        return [text], 1, is_internal_module(getattr(wrapped, "__module__", "") or "")
    if kind in ("sysmodules", "logging") and isinstance(head, dict) and second is not None:
        key = _dict_key(head, second)
        text = f"sys.modules[{key!r}]" if kind == "sysmodules" else f"logging.getLogger({key!r})"
        return [text], 1, False
    if kind == "registered":
        return [root.split(":", 1)[1]], 0, False
    if kind == "thread":
        return [root.split(":", 1)[1]], 0, False
    return ["gc root (held by C code or an untracked object)"], 0, False


def _dict_key(mapping: dict[Any, Any], value: Any) -> Any:
    for key, val in mapping.items():
        if val is value:
            return key
    return None


def _short(key: Any) -> str:
    text = repr(key)
    return text if len(text) <= 40 else text[:37] + "..."


def _edge(obj: Any, nxt: Any, after: list[Any]) -> tuple[str, int]:
    """How ``obj`` refers to ``nxt``; the int says how many extra chain nodes were merged."""
    if isinstance(obj, dict):
        key = _dict_key(obj, nxt)
        return (f"dict[{_short(key)}]" if key is not None or None in obj else "dict key"), 0
    if isinstance(obj, list | tuple | collections.deque):
        for index, value in enumerate(obj):
            if value is nxt:
                return f"{type(obj).__name__}[{index}]", 0
        return type(obj).__name__, 0
    if isinstance(obj, set | frozenset):
        return f"{type(obj).__name__} member", 0
    attrs = getattr(obj, "__dict__", None)
    if isinstance(attrs, dict):
        if attrs is nxt and after:
            key = _dict_key(attrs, after[0])
            if key is not None:
                return f"{type(obj).__qualname__}.{key}", 1
        key = _dict_key(attrs, nxt)
        if key is not None:
            return f"{type(obj).__qualname__}.{key}", 0
    for slot in getattr(type(obj), "__slots__", ()):
        if isinstance(slot, str) and getattr(obj, slot, None) is nxt:
            return f"{type(obj).__qualname__}.{slot}", 0
    if isinstance(obj, types.FunctionType):
        closure = obj.__closure__
        if closure is not None and nxt is closure and after:
            for index, cell in enumerate(closure):
                if cell is after[0]:
                    return (
                        f"function {obj.__qualname__} closure variable {obj.__code__.co_freevars[index]!r}",
                        2,
                    )
        return f"function {obj.__qualname__}", 0
    if type(obj).__name__ == "_local" and type(obj).__module__ == "_thread" and isinstance(nxt, dict):
        return "threading.local (per-thread data)", 1 if after and isinstance(after[0], dict) else 0
    return type(obj).__qualname__, 0
