"""Resolve ``module:callable`` (the CLI's target) to a function, with one-line errors."""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Callable
from typing import Any

from memwatch.errors import UsageError

__all__ = ["load_exception", "load_target"]


def load_target(spec: str) -> Callable[..., Any]:
    """Import ``module`` and return its ``callable`` (dotted attributes allowed).

    The current directory is importable, as with ``python -m``. Every failure is a
    :class:`~memwatch.errors.UsageError` with one line: the module does not import,
    the attribute is missing, it is not callable, or it needs arguments.
    """
    module_name, sep, attr_path = spec.partition(":")
    if not sep or not module_name or not attr_path:
        raise UsageError(f"invalid target {spec!r}: expected module:callable, "
                         "e.g. app.handlers:handle_request")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise UsageError(f"cannot import module {module_name!r}: {exc}") from None
    except Exception as exc:
        raise UsageError(f"importing module {module_name!r} raised "
                         f"{type(exc).__name__}: {exc}") from None
    obj: Any = module
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UsageError(f"module {module_name!r} has no attribute {attr_path!r}") from None
    if not callable(obj):
        raise UsageError(f"{spec} is not callable (it is an instance of {type(obj).__name__})")
    try:
        inspect.signature(obj).bind()
    except TypeError as exc:
        raise UsageError(f"{spec} cannot be called without arguments ({exc}); wrap it in a "
                         "function that supplies them") from None
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
        raise UsageError(f"{name!r} is not an exception class (use a builtin name such as "
                         "ValueError, or module:Class)")
    return obj
