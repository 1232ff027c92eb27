#!/usr/bin/env bash
# Set-up only (scripts/test.sh runs it, then scripts/check.sh); installs, starts nothing:
#   - a virtual environment in .venv (created if missing) with memwatch[test], editable
#   - as root with apt-get: Debian's `postgresql` and `chromium` when missing, for the tests
#     that need a real server and a real browser (elsewhere those tests skip and say why)
# Safe to run again: what is there already is kept (pip only adds what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

echo "== setup: .venv with memwatch[test]"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

missing=()
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== setup: installing ${missing[*]} (Debian)"
        # apt lists younger than a day are fresh enough
        if { [ -n "$(find /var/lib/apt/lists -name '*Packages*' -mmin -1440 2>/dev/null | head -n 1)" ] \
                || apt-get update -qq >/tmp/memwatch-apt.log 2>&1; } \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>/tmp/memwatch-apt.log 2>&1; then
            :
        else
            echo "   apt-get install ${missing[*]} failed (see /tmp/memwatch-apt.log): the tests that need them will skip"
        fi
    else
        echo "   ${missing[*]} not installed and this user cannot install them: the tests that need them will skip"
    fi
fi
