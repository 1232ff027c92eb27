"""A toy web handler: every request builds a small tree whose nodes point to their parent.

For ``memwatch gc shop:handle_request`` (run from examples/); docs/gc.md walks through it.
"""

import weakref


class Node:
    def __init__(self, parent=None):
        self.parent = parent  # child -> parent and parent -> child: a reference cycle
        self.children = []
        if parent is not None:
            parent.children.append(self)


class WeakNode:
    def __init__(self, parent=None):
        self.parent = weakref.ref(parent) if parent is not None else None  # no cycle
        self.children = []
        if parent is not None:
            parent.children.append(self)


# long-lived state loaded at start-up: 300,000 records the collector must traverse
CATALOGUE = [{"sku": i, "tags": [f"tag{i % 50}"]} for i in range(300_000)]


def handle_request(node=Node):
    root = node()
    for _ in range(20):
        child = node(root)
        for _ in range(5):
            node(child)
    return len(root.children)


def handle_request_weak():
    return handle_request(WeakNode)
