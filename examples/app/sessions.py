"""A request handler with a bounded session cache: memory plateaus, it does not leak."""

from __future__ import annotations

import itertools
from collections import OrderedDict

_counter = itertools.count()


class SessionStore:
    """Keeps the 256 most recent sessions."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, dict[str, object]] = OrderedDict()

    def touch(self, user: str) -> dict[str, object]:
        session = self._items.pop(user, None) or {"user": user, "cart": [0] * 32}
        self._items[user] = session
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return session

    def close(self) -> None:
        self._items.clear()


_STORE = SessionStore()


def handle_request() -> int:
    """Serve one request from one of 1,000 users (the cache holds 256 of them)."""
    user = f"user{next(_counter) % 1000}"
    session = _STORE.touch(user)
    return len(session)


def use_store(store: SessionStore) -> None:
    """The component-mode operation: a few requests against a fresh store."""
    for i in range(50):
        store.touch(f"u{i}")
