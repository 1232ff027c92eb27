"""Pure statistics on arrays: no I/O, no threads, no printing.

Modules:

- ``summary``: percentiles, rates of change, mean/median/stdev of a series.
- ``trend``: leak trend tests (added by the leak engineer).
- ``compare``: significance of a change between two samples (added by the
  regression engineer).

Import from the defining module (``memwatch.stats.summary``), not from here.
"""

from __future__ import annotations

__all__: list[str] = []
