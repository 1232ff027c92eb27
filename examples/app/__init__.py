"""A small example application for ``memwatch validate``: three components, one of them leaky.

- ``sessions``: a bounded session cache (fills, then stays flat: not a leak)
- ``reports``: builds and serialises a report per call (allocates a lot, keeps nothing)
- ``audit``: appends every event to a module-level list (a small, real leak)
"""
