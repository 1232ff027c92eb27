"""JSON: the versioned document (``{"memwatch_schema": 1, "kind": ..., "data": ...}``),
the same text ``write_document`` saves, so a report can be loaded back."""

from __future__ import annotations

import json

from memwatch.model.base import Record, dump_document

__all__ = ["render"]


def render(result: Record) -> str:
    """Any registered result as its versioned JSON document (sorted keys, no NaN)."""
    return json.dumps(dump_document(result), sort_keys=True, indent=1, allow_nan=False) + "\n"
