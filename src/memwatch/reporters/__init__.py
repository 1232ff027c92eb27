"""Reporters turn a result into text: one module per format, chosen by name.

:func:`render` looks the format up in :data:`FORMATS` (name -> module and function)
and, for kinds a format's main function does not handle, in :data:`KIND_FORMATS`
((kind, format) -> module and function). Modules load only when used, so
``import memwatch.reporters`` imports neither matplotlib nor jinja2. Another
format is added with :func:`register_format` or one more row below.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

from memwatch.errors import ConfigError, UsageError
from memwatch.model.base import Record

__all__ = ["FORMATS", "KIND_FORMATS", "available_formats", "register_format", "render", "unsupported"]

# format name -> (module, function taking the result and returning text)
FORMATS: dict[str, tuple[str, str]] = {
    "text": ("memwatch.reporters.text", "render"),
    "md": ("memwatch.reporters.markdown", "render"),
    "markdown": ("memwatch.reporters.markdown", "render"),
    "json": ("memwatch.reporters.jsonfmt", "render"),
    "html": ("memwatch.reporters.html", "render_html"),
    "junit": ("memwatch.reporters.junit", "render_junit"),
}

# (result kind, format) -> (module, function): for kinds the main function does not show
KIND_FORMATS: dict[tuple[str, str], tuple[str, str]] = {
    ("validation_report", "text"): ("memwatch.reporters.validation", "render_text"),
    ("validation_report", "md"): ("memwatch.reporters.validation", "render_markdown"),
    ("validation_report", "markdown"): ("memwatch.reporters.validation", "render_markdown"),
    ("ab_comparison", "text"): ("memwatch.reporters.comparisons", "ab_text"),
    ("ab_comparison", "md"): ("memwatch.reporters.comparisons", "ab_markdown"),
    ("ab_comparison", "markdown"): ("memwatch.reporters.comparisons", "ab_markdown"),
    ("regression_report", "text"): ("memwatch.reporters.comparisons", "regression_text"),
    ("regression_report", "md"): ("memwatch.reporters.comparisons", "regression_markdown"),
    ("regression_report", "markdown"): ("memwatch.reporters.comparisons", "regression_markdown"),
}


def register_format(name: str, module: str, function: str = "render", *, kind: str | None = None) -> None:
    """Add a format (for every kind, or for one ``kind`` only)."""
    if kind is None:
        FORMATS[name] = (module, function)
    else:
        KIND_FORMATS[(kind, name)] = (module, function)


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def available_formats() -> list[str]:
    """The format names whose module is present in this installation."""
    return sorted(name for name, (module, _) in FORMATS.items() if _exists(module))


def _function(entry: tuple[str, str]) -> Callable[[Any], str]:
    module = importlib.import_module(entry[0])
    func: Callable[[Any], str] = getattr(module, entry[1])
    return func


def render(result: Record, fmt: str) -> str:
    """``result`` as text in format ``fmt``; ConfigError for an unknown format name.

    A format raises :func:`unsupported` (a UsageError) for a kind it cannot show.
    """
    entry = KIND_FORMATS.get((result.KIND, fmt))
    if entry is not None and _exists(entry[0]):
        return _function(entry)(result)
    entry = FORMATS.get(fmt)
    if entry is None or not _exists(entry[0]):
        raise ConfigError(f"unknown report format {fmt!r}; available: {', '.join(available_formats())}")
    return _function(entry)(result)


def unsupported(fmt: str, result: object) -> UsageError:
    """The error a format raises for a result kind it cannot show."""
    kind = getattr(result, "KIND", "") or type(result).__name__
    return UsageError(f"the {fmt} format cannot show a {kind!r} result")
