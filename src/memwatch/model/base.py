"""The codec shared by every result dataclass, and the versioned JSON document.

A saved result is a JSON document::

    {"memwatch_schema": 1, "kind": "run", "data": {...}}

Schema history (bump SCHEMA_VERSION and add a line when a field changes meaning
or a required field is added; a reader refuses versions it does not know):

    1  2026-11  first version: run, timeline, leak_report and the other kinds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import stat
import sys
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

from memwatch.errors import DataError, UsageError

__all__ = [
    "SCHEMA_VERSION",
    "Record",
    "atomic_write_text",
    "dump_document",
    "load_document",
    "open_temp_beside",
    "read_document",
    "register_kind",
    "write_document",
]

SCHEMA_VERSION = 1
_KINDS: dict[str, type[Record]] = {}
T = TypeVar("T", bound="Record")


def register_kind(kind: str) -> typing.Callable[[type[T]], type[T]]:
    """Class decorator: name the document kind a top-level result is saved as."""

    def wrap(cls: type[T]) -> type[T]:
        cls.KIND = kind
        _KINDS[kind] = cls
        return cls

    return wrap


class Record:
    """Mixin for frozen dataclasses: ``to_dict()`` / ``from_dict()`` with nested types.

    Supported field types: str, int, float, bool, None, nested Record dataclasses,
    ``tuple[X, ...]``, ``list[X]``, ``dict[str, X]``, ``X | None`` and numpy arrays
    (annotated ``np.ndarray``), which are stored as lists of floats.
    """

    KIND: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        fields = dataclasses.fields(self)  # type: ignore[arg-type]
        return {f.name: _encode(getattr(self, f.name)) for f in fields}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        if not isinstance(data, Mapping):
            raise DataError(f"expected an object for {cls.__name__}, got {type(data).__name__}")
        hints = _hints(cls)
        kwargs: dict[str, Any] = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            if field.name in data:
                kwargs[field.name] = _decode(hints[field.name], data[field.name], field.name)
            elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                raise DataError(f"{cls.__name__}: missing field {field.name!r}")
        return cls(**kwargs)


_HINT_CACHE: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINT_CACHE.get(cls)
    if hints is None:
        hints = typing.get_type_hints(cls)
        _HINT_CACHE[cls] = hints
    return hints


def _numpy() -> Any:
    # numpy is loaded lazily: a value or a field annotated with a numpy type can only
    # exist once numpy is imported, so records of numpy-free modules (the guard, the
    # caches) never pay for the import.
    return sys.modules.get("numpy")


def _encode(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, float):
        return _encode_float(value)
    np = _numpy()
    if np is not None:
        if isinstance(value, np.ndarray):
            return [_encode_float(v) for v in value.tolist()]
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.floating):
            return _encode_float(float(value))
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


def _encode_float(value: Any) -> Any:
    # JSON has no NaN/inf; keep them readable and round-trippable.
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _decode(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _decode(arg, value, where)
            except DataError as exc:
                errors.append(str(exc))
        raise DataError(f"field {where!r}: {value!r} matches none of {hint}")
    if origin is typing.Literal:
        if value not in args:
            raise DataError(f"field {where!r}: {value!r} is not one of {args}")
        return value
    if isinstance(hint, type) and issubclass(hint, Record):
        return hint.from_dict(value)
    np = _numpy()
    if np is not None and (hint is np.ndarray or origin is np.ndarray):
        if not isinstance(value, list):
            raise DataError(f"field {where!r}: expected a list of numbers")
        return np.asarray([_decode_float(v, where) for v in value], dtype=np.float64)
    if origin is tuple:
        if not isinstance(value, list):
            raise DataError(f"field {where!r}: expected a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, where) for v in value)
        return tuple(_decode(a, v, where) for a, v in zip(args, value, strict=True))
    if origin is list:
        if not isinstance(value, list):
            raise DataError(f"field {where!r}: expected a list")
        return [_decode(args[0], v, where) for v in value]
    if origin is dict:
        if not isinstance(value, dict):
            raise DataError(f"field {where!r}: expected an object")
        return {k: _decode(args[1], v, where) for k, v in value.items()}
    if hint is float:
        return _decode_float(value, where)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise DataError(f"field {where!r}: expected an integer, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise DataError(f"field {where!r}: expected true/false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise DataError(f"field {where!r}: expected text, got {value!r}")
        return value
    if hint is type(None):
        if value is not None:
            raise DataError(f"field {where!r}: expected null")
        return None
    return value


def _decode_float(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise DataError(f"field {where!r}: expected a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if value in ("nan", "inf", "-inf"):
        return float(value)
    raise DataError(f"field {where!r}: expected a number, got {value!r}")


def dump_document(result: Record) -> dict[str, Any]:
    """Wrap a top-level result in a versioned document."""
    if not result.KIND:
        raise TypeError(f"{type(result).__name__} is not a registered document kind")
    return {"memwatch_schema": SCHEMA_VERSION, "kind": result.KIND, "data": result.to_dict()}


def load_document(doc: Any, *, expected: type[T] | None = None, source: str = "document") -> T:
    """Rebuild a result from :func:`dump_document` output, refusing unknown versions."""
    if not isinstance(doc, dict) or "memwatch_schema" not in doc:
        raise DataError(f"{source}: not a memwatch result file")
    version = doc["memwatch_schema"]
    if version != SCHEMA_VERSION:
        raise DataError(
            f"{source}: schema version {version!r} is not supported by this memwatch "
            f"(it reads version {SCHEMA_VERSION}); upgrade memwatch or re-record"
        )
    kind = doc.get("kind")
    cls = _KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise DataError(f"{source}: unknown result kind {kind!r}")
    if expected is not None and not issubclass(cls, expected):
        raise DataError(f"{source}: holds a {kind!r} result, expected {expected.KIND!r}")
    try:
        return typing.cast(T, cls.from_dict(doc.get("data", {})))
    except DataError as exc:
        raise DataError(f"{source}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise DataError(f"{source}: corrupt {kind!r} result ({exc})") from None


def open_temp_beside(target: Path) -> tuple[int, str]:
    """A new temp file (descriptor, path) in ``target``'s folder, to be renamed over it.

    Unlike :func:`tempfile.mkstemp` (always mode 0o600) the file gets the mode any
    other tool would give ``target``: the mode of the file it replaces, else 0o666
    less the umask (the kernel applies the umask; nothing here reads or changes it).
    Raises OSError.
    """
    folder = target.parent if str(target.parent) else Path(".")
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode) if target.is_file() else None
    except OSError:
        mode = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = os.path.join(folder, f".{target.name}.{os.urandom(4).hex()}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        if mode is not None:
            try:
                os.fchmod(fd, mode)
            except OSError:
                pass
        return fd, tmp
    raise FileExistsError(f"no free temp file name beside {target}")


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically: temp file in the same folder, fsync, rename.

    The file gets the mode of the one it replaces, else 0o666 less the umask."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"cannot write {target}: folder {folder} does not exist")
    if target.is_dir():
        raise UsageError(f"cannot write {target}: it is a directory")
    try:
        fd, tmp = open_temp_beside(target)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target


def write_document(result: Record, path: str | os.PathLike[str]) -> Path:
    """Save ``result`` as a versioned JSON document, atomically (sorted keys)."""
    text = json.dumps(dump_document(result), sort_keys=True, indent=1, allow_nan=False)
    return atomic_write_text(path, text + "\n")


def read_document(path: str | os.PathLike[str], *, expected: type[T] | None = None) -> T:
    """Load a result file written by :func:`write_document`."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{source}: is a directory, not a result file") from None
    except OSError as exc:
        raise DataError(f"{source}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise DataError(f"{source}: not a memwatch result file (binary content)") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{source}: corrupt JSON at line {exc.lineno} column {exc.colno}") from None
    return load_document(doc, expected=expected, source=source)
