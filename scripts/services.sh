# shellcheck shell=bash
# Sourced by scripts/test.sh (under `set -euo pipefail`): start the real services
# the tests need and export their addresses. Never exits the caller: when a service
# cannot be had, it prints why and the tests that need it skip with that reason.
#
#   PostgreSQL: a throw-away cluster from Debian's `postgresql` package (scripts/setup.sh
#   installs it; this file installs it too when sourced alone as root), on a local
#   port (127.0.0.1:${MEMWATCH_PG_PORT:-55432}, trust auth, fsync off) in
#   ${MEMWATCH_PG_DIR:-/tmp/memwatch-pg}; exports MEMWATCH_TEST_PG_URL. Idempotent:
#   a cluster already running is reused (a second call takes well under a second).
#
#   memwatch_services_stop (scripts/test.sh runs it on EXIT) stops the cluster when
#   services.sh started it and no other shell that sourced this file is still alive
#   (each registers its pid in ${MEMWATCH_PG_DIR}.users/). A cluster it did not start
#   (started by hand, or one whose postmaster is not the one it started) is left running.
#   Stop one by hand with: pg_ctl -D /tmp/memwatch-pg stop   (as the postgres user when root)

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
        echo "== services: started PostgreSQL in $dir"
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

_memwatch_postmaster_pid() {
    # The running server's pid (first line of postmaster.pid), empty when none.
    head -n 1 "${MEMWATCH_PG_DIR:-/tmp/memwatch-pg}/postmaster.pid" 2>/dev/null || true
}

# Two shells sourcing this at once must not both run initdb, nor one stop the cluster
# while another starts using it: both paths take this lock.
_memwatch_services_lock() {
    _memwatch_lock_fd=""
    if command -v flock >/dev/null 2>&1 && exec {_memwatch_lock_fd}>>/tmp/memwatch-services.lock; then
        flock -w 120 "$_memwatch_lock_fd" || true
    fi
}

_memwatch_services_unlock() {
    if [ -n "${_memwatch_lock_fd:-}" ]; then
        exec {_memwatch_lock_fd}>&-
    fi
    _memwatch_lock_fd=""
}

_memwatch_services_pg() {
    local out why dir=${MEMWATCH_PG_DIR:-/tmp/memwatch-pg}
    _memwatch_services_lock
    out=$(_memwatch_start_postgres 2>&1) || true
    why=$(printf '%s\n' "$out" | tail -n 1)
    if [[ "$why" == "== services: PostgreSQL at "* ]]; then
        export MEMWATCH_TEST_PG_URL="${why#== services: PostgreSQL at }"
        printf '%s\n' "$out"
        # this shell uses the cluster until it exits; note who started the server
        { mkdir -p "$dir.users" && : >"$dir.users/$$"; } 2>/dev/null || true
        if [[ "$out" == *"== services: started PostgreSQL"* ]]; then
            _memwatch_postmaster_pid >"$dir.started" 2>/dev/null || true
        fi
    else
        unset MEMWATCH_TEST_PG_URL
        export MEMWATCH_TEST_PG_SKIP_REASON="$why"
        echo "== services: PostgreSQL unavailable ($why); tests marked 'postgres' will skip"
    fi
    _memwatch_services_unlock
}

# Stop the cluster if services.sh started it and no other shell that sourced this file
# is still alive. Never fails: it only says what it did.
memwatch_services_stop() {
    local dir=${MEMWATCH_PG_DIR:-/tmp/memwatch-pg} user pid started bindir as="" others=""
    _memwatch_services_lock
    rm -f "$dir.users/$$" 2>/dev/null || true
    for user in "$dir.users"/*; do
        pid=${user##*/}
        if [[ "$pid" =~ ^[0-9]+$ ]] && [ -d "/proc/$pid" ]; then
            others="$others $pid"
        else
            rm -f "$user" 2>/dev/null || true  # a shell that exited without stopping
        fi
    done
    if [ ! -s "$dir.started" ]; then  # not started by services.sh: not ours to stop
        _memwatch_services_unlock
        return 0
    fi
    if [ -n "$others" ]; then
        echo "== services: PostgreSQL left running in $dir: still used by pid$others"
        _memwatch_services_unlock
        return 0
    fi
    started=$(cat "$dir.started" 2>/dev/null || true)
    pid=$(_memwatch_postmaster_pid)
    if [ -n "$pid" ] && [ "$pid" = "$started" ]; then
        bindir=$(_memwatch_pg_bindir)
        [ "$(id -u)" != 0 ] || as="runuser -u postgres --"
        if $as "$bindir/pg_ctl" -D "$dir" stop -m fast -w -t 60 >/dev/null 2>&1; then
            echo "== services: PostgreSQL stopped (pid $pid, started by scripts/services.sh)"
        else
            echo "== services: could not stop PostgreSQL in $dir (pid $pid)"
        fi
    fi
    rm -f "$dir.started" 2>/dev/null || true
    _memwatch_services_unlock
    return 0
}

_memwatch_services_pg || true
