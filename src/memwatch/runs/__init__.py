"""Commands run in a child process and measured: ``memwatch run`` (:mod:`.command`), run comparison
(:mod:`.compare`) and repeated runs of one command (``memwatch benchmark``, :mod:`.repeat`).
"""
