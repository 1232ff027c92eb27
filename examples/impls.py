"""Two implementations of one operation, for ``memwatch compare --ab`` (run from examples/).

Both encode the same records; the tuple version keeps no per-record dict, so its peak is lower.
"""

from __future__ import annotations


def make_input() -> list[tuple[int, str, float]]:
    """The argument both implementations get: 1,000 records."""
    return [(i, f"item-{i}", i * 0.5) for i in range(1000)]


def encode_dicts(records: list[tuple[int, str, float]]) -> int:
    rows = [{"id": i, "name": name, "price": price} for i, name, price in records]
    return sum(len(row["name"]) for row in rows)


def encode_tuples(records: list[tuple[int, str, float]]) -> int:
    rows = [(i, name, price) for i, name, price in records]
    return sum(len(row[1]) for row in rows)
