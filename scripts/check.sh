#!/usr/bin/env bash
# Checking only (scripts/test.sh runs scripts/setup.sh first); installs and starts nothing.
# Uses the tools in .venv; the services the tests need are found through the environment
# (MEMWATCH_TEST_PG_URL, MEMWATCH_TEST_CHROMIUM: scripts/test.sh exports them), else
# those tests skip and say why.
#   bash scripts/check.sh              lint, format, types, import layers, the whole suite with coverage
#   bash scripts/check.sh tests/unit   the same checks, then only those tests (no coverage floor)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== ruff";            .venv/bin/ruff check src tests benchmarks examples
echo "== ruff format";     .venv/bin/ruff format --check src tests benchmarks examples
echo "== mypy";            .venv/bin/mypy   # strict on src/memwatch, non-strict on tests/ (pyproject.toml)
echo "== import layers";   .venv/bin/lint-imports
if [ $# -eq 0 ]; then
    # The floor is [tool.coverage.report] fail_under in pyproject.toml; only the whole suite can meet it.
    echo "== pytest (coverage of src/memwatch, in-process)"
    exec .venv/bin/python -m pytest -n 2 --cov --cov-report=term:skip-covered
fi
echo "== pytest $*"
exec .venv/bin/python -m pytest -n 2 "$@"
