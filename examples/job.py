"""A small batch job with visible phases, for ``memwatch run -- python examples/job.py``.

Load ~60 MB of records (``JOB_RECORDS`` sets how many), transform them,
aggregate, release. The phases are marked with :func:`memwatch.runs.command.phase`,
which writes to the file ``memwatch run`` names in ``MEMWATCH_PHASE_FILE`` and
does nothing when the job runs on its own.
"""

from __future__ import annotations

import gc
import json
import os
import time

try:
    from memwatch.runs.command import phase
except ImportError:  # memwatch not importable here: write the phase file protocol directly
    import contextlib
    from collections.abc import Iterator

    @contextlib.contextmanager
    def phase(name: str) -> Iterator[None]:
        path = os.environ.get("MEMWATCH_PHASE_FILE")

        def mark(verb: str) -> None:
            if path:
                with open(path, "a") as handle:
                    handle.write(f"{verb} {name} @{time.monotonic():.6f}\n")

        mark("start")
        try:
            yield
        finally:
            mark("end")


N_RECORDS = int(os.environ.get("JOB_RECORDS", "140000"))  # ~60 MB of records at the default


def load() -> list[dict[str, object]]:
    # ~300 bytes a record in Python objects: about 60 MB in all.
    return [
        {"id": i, "name": f"item-{i:07d}", "price": i * 0.25, "tags": ["a", "b", str(i % 97)]}
        for i in range(N_RECORDS)
    ]


def transform(rows: list[dict[str, object]]) -> list[str]:
    return [json.dumps(row) for row in rows]


def aggregate(lines: list[str]) -> dict[int, int]:
    totals: dict[int, int] = {}
    for line in lines:
        bucket = len(line) % 10
        totals[bucket] = totals.get(bucket, 0) + 1
    return totals


def main() -> None:
    with phase("load"):
        rows = load()
    with phase("transform"):
        lines = transform(rows)
    with phase("aggregate"):
        totals = aggregate(lines)
    with phase("release"):
        del rows, lines
        gc.collect()
        time.sleep(0.2)
    print(f"aggregated {sum(totals.values())} records into {len(totals)} buckets")


if __name__ == "__main__":
    main()
