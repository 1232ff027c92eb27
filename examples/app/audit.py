"""An audit trail that never forgets: every event stays in a module-level list (a leak)."""

from __future__ import annotations

import time

_EVENTS: list[tuple[float, str]] = []


def record_event() -> None:
    _EVENTS.append((time.time(), "user logged in from 10.0.0.1 with agent Mozilla/5.0"))
