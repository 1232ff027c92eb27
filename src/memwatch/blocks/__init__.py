"""Memory-bounded building blocks: the object pool (:mod:`.pool`), the caches (:mod:`.cache`) and the
registry that lets the guard reclaim memory from both (:mod:`.reclaim`). None of them imports numpy.
"""
