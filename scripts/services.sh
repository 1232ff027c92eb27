# shellcheck shell=bash
# Sourced by scripts/test.sh (under `set -euo pipefail`): start the real services
# the tests need and export their addresses. Never exits the caller: when a service
# cannot be had, it prints why and the tests that need it skip with that reason.
#
#   PostgreSQL: a throw-away cluster from Debian's `postgresql` package, on a local
#   port (127.0.0.1:${MEMWATCH_PG_PORT:-55432}, trust auth, fsync off) in
#   ${MEMWATCH_PG_DIR:-/tmp/memwatch-pg}; exports MEMWATCH_TEST_PG_URL. Idempotent:
#   a cluster already running is reused (a second call takes well under a second).
#   Stop it with: pg_ctl -D /tmp/memwatch-pg stop   (as the postgres user when root)

_memwatch_pg_bindir() {
    local dirs
    dirs=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    printf '%s' "$dirs"
}

_memwatch_start_postgres() {
    # Runs in a subshell: drop the lock taken below, or the server would inherit it
    # and hold it for ever.
    if [ -n "${_memwatch_lock_fd:-}" ]; then
        exec {_memwatch_lock_fd}>&-
    fi
    local dir=${MEMWATCH_PG_DIR:-/tmp/memwatch-pg}
    local port=${MEMWATCH_PG_PORT:-55432}
    local db=memwatch_test
    local bindir as=""
    bindir=$(_memwatch_pg_bindir)
    if [ -z "$bindir" ]; then
        if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
            echo "PostgreSQL is not installed and cannot be installed here (needs root and apt-get)"
            return 1
        fi
        echo "== services: installing PostgreSQL (apt-get install postgresql)"
        if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } \
                >/tmp/memwatch-pg-install.log 2>&1; then
            echo "apt-get install postgresql failed (see /tmp/memwatch-pg-install.log)"
            return 1
        fi
        bindir=$(_memwatch_pg_bindir)
        [ -n "$bindir" ] || { echo "postgresql installed but no server binaries found"; return 1; }
    fi
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || { echo "no 'postgres' user to run the server as"; return 1; }
        as="runuser -u postgres --"
    fi
    if ! $as "$bindir/pg_ctl" status -D "$dir" >/dev/null 2>&1; then
        if [ ! -s "$dir/PG_VERSION" ]; then
            rm -rf "$dir" && mkdir -p "$dir" || { echo "cannot create $dir"; return 1; }
            [ -z "$as" ] || chown postgres "$dir"
            chmod 700 "$dir"
            if ! $as "$bindir/initdb" -D "$dir" -U postgres -A trust -E UTF8 --no-sync \
                    >"$dir.initdb.log" 2>&1; then
                echo "initdb failed (see $dir.initdb.log)"
                return 1
            fi
        fi
        if ! $as "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
                -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
                start >/dev/null 2>&1; then
            echo "PostgreSQL did not start on port $port (see $dir/server.log)"
            return 1
        fi
    fi
    local psql="$bindir/psql -X -q -h 127.0.0.1 -p $port -U postgres"
    if ! $psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" postgres 2>/dev/null | grep -q 1; then
        $psql -c "CREATE DATABASE $db" postgres >/dev/null 2>&1 \
            || $psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" postgres | grep -q 1 \
            || { echo "cannot create database $db on port $port"; return 1; }
    fi
    export MEMWATCH_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/$db"
    echo "== services: PostgreSQL at $MEMWATCH_TEST_PG_URL"
}

# Two shells sourcing this at once must not both run initdb: take a lock.
_memwatch_services_pg() {
    local why
    _memwatch_lock_fd=""
    if command -v flock >/dev/null 2>&1 && exec {_memwatch_lock_fd}>>/tmp/memwatch-services.lock; then
        flock -w 120 "$_memwatch_lock_fd" || true
    fi
    why=$(_memwatch_start_postgres 2>&1 | tail -n 1) || true
    if [[ "$why" == "== services: PostgreSQL at "* ]]; then
        export MEMWATCH_TEST_PG_URL="${why#== services: PostgreSQL at }"
        echo "$why"
    else
        unset MEMWATCH_TEST_PG_URL
        export MEMWATCH_TEST_PG_SKIP_REASON="$why"
        echo "== services: PostgreSQL unavailable ($why); tests marked 'postgres' will skip"
    fi
    if [ -n "$_memwatch_lock_fd" ]; then
        exec {_memwatch_lock_fd}>&-
    fi
}

_memwatch_services_pg || true

# ---------------------------------------------------------------------------
# Chromium for the HTML report test (headless, /usr/bin/chromium driven by
# Playwright): the validation-suite engineer adds its install/start here.
# ---------------------------------------------------------------------------
