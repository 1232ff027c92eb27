"""Memory over time: the background sampler (:mod:`.sampler`, :mod:`.sources`) and the
:class:`~memwatch.sampling.profiler.MemoryProfiler` built on it.
"""
