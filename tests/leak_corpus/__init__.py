"""A corpus of operations that leak and of traps that must not be called leaks.

``cases.CASES`` lists them with the expected answer; ``leaky``, ``clean`` and
``native`` hold the operations (module-level state on purpose: a retention path
must name it). Every leaky module offers ``reset()`` to drop what was retained.
"""
