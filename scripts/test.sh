#!/usr/bin/env bash
# Install the test dependencies and run the whole test suite, as README.md says.
# Also what CI runs (.ci/run calls this and nothing else).
#   - a virtual environment in .venv (created if missing) with memwatch[test]
#   - the real services some tests need, from Debian's packages: PostgreSQL
#     (a throw-away cluster on a local port) and Chromium (for the HTML report)
#   - ruff, mypy --strict, the import-layer contract, then pytest
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# shellcheck source=scripts/services.sh
source scripts/services.sh
# shellcheck source=scripts/browser.sh
source scripts/browser.sh
echo "== ruff";        .venv/bin/ruff check src tests benchmarks examples
echo "== mypy";        .venv/bin/mypy
echo "== import layers"; .venv/bin/lint-imports
echo "== pytest"
exec .venv/bin/python -m pytest -n 2 "$@"
