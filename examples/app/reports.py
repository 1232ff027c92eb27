"""Builds a report per call: allocation-heavy, keeps nothing."""

from __future__ import annotations

import json


def render() -> int:
    rows = [{"id": i, "name": f"item-{i}", "tags": ["a", "b"], "price": i * 1.5} for i in range(200)]
    text = json.dumps({"rows": rows, "total": sum(r["price"] for r in rows)})
    return len(json.loads(text)["rows"])
