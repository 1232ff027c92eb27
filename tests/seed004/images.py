"""Stand-ins for document 004's image pipeline, run in the stress child.

``process_batch`` is one round of its Python pressure test: 1,000 images of 1 MB and more
through a pipeline that keeps nothing, with ``gc.collect()`` after the batch (the document
forces it every 1,000 operations). ``reserve_address_space`` keeps 100 MB of read-only
address space per call (a binding that maps and never unmaps): VMS grows, RSS does not.
"""

from __future__ import annotations

import gc
import mmap

_reserved: list[mmap.mmap] = []


def optimize(image: bytes) -> bytes:
    """A pretend optimiser: a smaller copy of the input."""
    return image[: len(image) // 2]


def process_batch(count: int = 1000) -> int:
    done = 0
    for index in range(count):
        image = bytes([index % 251]) * (1_000_000 + 1024 * (index % 16))  # every page written
        result = optimize(image)
        done += len(result) > 0
        del image, result
    gc.collect()
    return done


def reserve_address_space() -> None:
    _reserved.append(mmap.mmap(-1, 100 * 10**6, prot=mmap.PROT_READ))
