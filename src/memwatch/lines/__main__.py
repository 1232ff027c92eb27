"""``python -m memwatch.lines script.py [args]``: the same as ``memwatch lines``."""

from __future__ import annotations

import sys

from memwatch.cli import main

if __name__ == "__main__":
    sys.exit(main(["lines", *sys.argv[1:]]))
