#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for the cluster tests: its own data directory in
# DIR, listening on 127.0.0.1 only, trust authentication (nothing but this
# machine's loopback reaches it), fsync off (the tests never survive a power
# cut). PostgreSQL refuses to run as root, and CI runs as root: the server runs
# as the `postgres` user (Debian's package creates it) or, lacking one, as a
# system user `tallypg` created here. Installs Debian's `postgresql` when no
# PostgreSQL 15 binaries are found (its own system cluster is kept from
# starting during the install).
#
#   tools/lib/postgres.sh start DIR   # prints the connection URL
#   tools/lib/postgres.sh stop DIR    # stops it and removes DIR
#   tools/lib/postgres.sh pause DIR   # stops the server, keeps its data (an outage, for tests)
#   tools/lib/postgres.sh resume DIR  # starts it again on the same port
#   tools/lib/postgres.sh createdb URL NAME  # a new database on that server; prints its URL
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/ensure.sh"

postgres_bindir() {
    local dir
    for dir in /usr/lib/postgresql/15/bin /usr/local/bin; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ] && [ -x "$dir/createdb" ]; then echo "$dir"; return 0; fi
    done
    return 1
}

ensure_postgres() {
    if postgres_bindir >/dev/null; then return 0; fi
    echo "tools: installing postgresql" >&2
    local added=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
        as_root chmod 755 /usr/sbin/policy-rc.d
        added=1
    fi
    apt_install postgresql || { [ "$added" -eq 1 ] && as_root rm -f /usr/sbin/policy-rc.d; return 1; }
    if [ "$added" -eq 1 ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
    postgres_bindir >/dev/null
}

# Runs a command as the unprivileged owner of the server (as ourselves when not root).
as_owner() {
    if [ "$(id -u)" -ne 0 ]; then "$@"; return; fi
    runuser -u "$(owner)" -- "$@"
}

owner() {
    if id postgres >/dev/null 2>&1; then echo postgres; return; fi
    if ! id tallypg >/dev/null 2>&1; then useradd --system --no-create-home --shell /usr/sbin/nologin tallypg; fi
    echo tallypg
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Starts the server in DIR on PORT; fails when the port is taken.
# The server gets no descriptor of ours but the log: a pipe it inherited (a caller
# reading our output to its end) would stay open as long as the server runs.
launch() {
    local dir="$1" port="$2"
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd="${fd##*/}"
            if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
        done
        exec </dev/null >/dev/null 2>>"$dir/pg_ctl.log"
        as_owner "$(postgres_bindir)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start
    ) || { cat "$dir/pg_ctl.log" >&2; return 1; }
}

start() {
    local dir="$1" bin port
    ensure_postgres
    bin="$(postgres_bindir)"
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown "$(owner)" "$dir"; fi
    chmod 700 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U tally --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    for _ in 1 2 3; do
        port="$(free_port)"
        if launch "$dir" "$port"; then
            echo "$port" >"$dir/port"
            echo "postgres://tally@127.0.0.1:$port/postgres"
            return 0
        fi
    done
    cat "$dir/server.log" >&2
    return 1
}

pause() {
    local dir="$1"
    if [ -f "$dir/data/postmaster.pid" ]; then as_owner "$(postgres_bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null; fi
}

stop() {
    pause "$1" || true
    rm -rf "$1"
}

# Databases are created over TCP as the server's superuser `tally`, so any user may run this.
createdb() {
    local url="$1" name="$2" bin
    [[ "$url" =~ ^postgres://([^@:]+)@([^:/]+):([0-9]+)/ ]] || { echo "not a postgres://USER@HOST:PORT/DB URL: $url" >&2; return 2; }
    bin="$(postgres_bindir)"
    "$bin/createdb" -h "${BASH_REMATCH[2]}" -p "${BASH_REMATCH[3]}" -U "${BASH_REMATCH[1]}" "$name"
    echo "postgres://${BASH_REMATCH[1]}@${BASH_REMATCH[2]}:${BASH_REMATCH[3]}/$name"
}

case "${1:-}" in
    start) start "$2" ;;
    stop) stop "$2" ;;
    pause) pause "$2" ;;
    resume) launch "$2" "$(cat "$2/port")" ;;
    createdb) createdb "$2" "$3" ;;
    *) echo "usage: $0 start|stop|pause|resume DIR, or $0 createdb URL NAME" >&2; exit 2 ;;
esac
