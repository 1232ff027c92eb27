#!/usr/bin/env bash
# The README's test command, and all that CI runs (.ci/run calls this and nothing else):
#   1. scripts/setup.sh     .venv with memwatch[test]; Debian's postgresql and chromium when root
#   2. scripts/services.sh  start a throw-away PostgreSQL (or reuse a running one); browser.sh
#                           finds Chromium. Stopped again on exit, whatever happens, if this
#                           run started it and no other run still uses it.
#   3. scripts/check.sh     ruff, ruff format, mypy, the import layers, pytest with coverage
# Arguments go to pytest (then without the coverage floor): bash scripts/test.sh tests/unit
# The exit code is check.sh's: non-zero when any check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck source=scripts/services.sh
source scripts/services.sh
trap memwatch_services_stop EXIT
# shellcheck source=scripts/browser.sh
source scripts/browser.sh
bash scripts/check.sh "$@"
