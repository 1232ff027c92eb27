"""Resolve a ``module:callable`` target (the CLI's and the config's way to name code).

The current folder is importable, as with ``python -m``. Every failure is one
line in a :class:`~memwatch.errors.UsageError`: the text is malformed, the module
does not import (or raises while importing), the attribute is missing, it is not
callable, or (with ``no_args``) it cannot be called without arguments.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Callable
from typing import Any

from memwatch.errors import UsageError

__all__ = ["load_exception", "resolve_target"]


def resolve_target(spec: str, *, from_cwd: bool = True, no_args: bool = False) -> Callable[..., Any]:
    """Import ``module`` and return ``callable`` (dotted attributes allowed after the colon)."""
    module_name, sep, attr_path = spec.partition(":")
    if not sep or not module_name or not attr_path:
        raise UsageError(
            f"invalid target {spec!r}: expected module:callable, e.g. app.handlers:handle_request"
        )
    if from_cwd and "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"cannot import module {module_name!r} for target {spec!r}: {exc}") from None
    except MemoryError:
        raise
    except Exception as exc:  # a syntax error or an exception at import time
        raise UsageError(
            f"cannot import module {module_name!r} for target {spec!r}: {type(exc).__name__}: {exc}"
        ) from None
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UsageError(
                f"target {spec!r}: module {module_name!r} has no attribute {attr_path!r}"
            ) from None
    if not callable(obj):
        kind = type(obj).__name__
        article = "an" if kind[:1].lower() in "aeiou" else "a"
        raise UsageError(f"target {spec!r} is not callable (it is {article} {kind})")
    if no_args:
        try:
            inspect.signature(obj).bind()
        except TypeError as exc:
            raise UsageError(
                f"target {spec!r} cannot be called without arguments ({exc}); wrap "
                "it in a function that supplies them"
            ) from None
        except ValueError:  # no signature available (some builtins): let the call decide
            pass
    return obj  # type: ignore[no-any-return]


def load_exception(name: str) -> type[BaseException]:
    """An exception class by builtin name (``ValueError``) or ``module:Class``."""
    import builtins

    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            obj = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise UsageError(f"cannot load exception {name!r}: {exc}") from None
    else:
        obj = getattr(builtins, name, None)
    if not (isinstance(obj, type) and issubclass(obj, BaseException)):
        raise UsageError(
            f"{name!r} is not an exception class (use a builtin name such as ValueError, or module:Class)"
        )
    return obj
