"""Frozen result dataclasses: every engine returns one, every reporter and the store take one.

Each area keeps its results in a module of its own (``timeline``, ``leaks``, ...)
on top of the shared codec in :mod:`memwatch.model.base`.
"""

from memwatch.model.base import (
    SCHEMA_VERSION,
    Record,
    dump_document,
    load_document,
    read_document,
    register_kind,
    write_document,
)

__all__ = [
    "SCHEMA_VERSION",
    "Record",
    "dump_document",
    "load_document",
    "read_document",
    "register_kind",
    "write_document",
]
