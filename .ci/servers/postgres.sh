#!/usr/bin/env bash
# PostgreSQL (Debian's `postgresql` package) as our own throwaway cluster, not the system service:
# TCP 127.0.0.1:5432 only, trust auth for loopback and the unix socket (under the cache dir),
# fsync and synchronous_commit on (the Gateway's durability tests rely on them). Database `qmtl`
# owned by role `postgres`, so `postgresql://postgres@127.0.0.1:5432/qmtl` works without a
# password. Every start runs initdb on a fresh data dir, so tests never see a previous run's rows.
# Runs as the `postgres` OS user (the server refuses root).
# Usage: bash .ci/servers/postgres.sh start|stop
set -uo pipefail
source "$(dirname "$0")/../lib.sh"

HOME_DIR="$CACHE/postgres"
DATA_DIR="$HOME_DIR/data"
SOCKET_DIR="$HOME_DIR/run"
LOG="$HOME_DIR/postgres.log"
HOST=127.0.0.1
PORT=5432
OS_USER=postgres

# pg_bin: the newest server's bin dir (postgres/initdb/pg_ctl are not on PATH on Debian).
pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$dir" ] && [ -x "$dir/postgres" ] && echo "$dir"
}

as_postgres() { runuser -u "$OS_USER" -- "$@"; }

ready() {
  as_postgres "$BIN/psql" -h "$HOST" -p "$PORT" -U postgres -d postgres -XtAc 'SELECT 1' 2>/dev/null | grep -qx 1
}

stop() {
  BIN="$(pg_bin)"
  if [ -n "$BIN" ] && [ -f "$DATA_DIR/postmaster.pid" ]; then
    as_postgres "$BIN/pg_ctl" -D "$DATA_DIR" stop -m fast -w -t 30 >&2 || true
  fi
  stop_daemon postgres
}

start() {
  apt_install postgresql || return 1
  BIN="$(pg_bin)" || { log "postgres: no server binaries under /usr/lib/postgresql/*/bin"; return 1; }
  stop
  if wait_port "$HOST" "$PORT" 1; then
    log "postgres: $HOST:$PORT is taken by another process (the system service?); stop it first"
    return 1
  fi
  rm -rf "$DATA_DIR" "$SOCKET_DIR"
  mkdir -p "$DATA_DIR" "$SOCKET_DIR"
  chown -R "$OS_USER:" "$HOME_DIR"
  chmod 700 "$DATA_DIR"
  if ! as_postgres test -w "$DATA_DIR"; then
    log "postgres: user $OS_USER cannot write $DATA_DIR (is a parent dir of $CACHE closed to it?)"
    return 1
  fi
  as_postgres "$BIN/initdb" -D "$DATA_DIR" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    --no-instructions >"$HOME_DIR/initdb.log" 2>&1 || {
    log "postgres: initdb failed:"
    tail -n 20 "$HOME_DIR/initdb.log" >&2
    return 1
  }
  cat >>"$DATA_DIR/postgresql.conf" <<EOF
# .ci/servers/postgres.sh
listen_addresses = '$HOST'
port = $PORT
unix_socket_directories = '$SOCKET_DIR'
fsync = on
synchronous_commit = on
max_connections = 200
EOF
  cat >"$DATA_DIR/pg_hba.conf" <<EOF
# .ci/servers/postgres.sh: trust, on the unix socket and IPv4 loopback only.
local all all trust
host  all all 127.0.0.1/32 trust
EOF
  local began=$SECONDS
  start_daemon postgres "$LOG" runuser -u "$OS_USER" -- "$BIN/postgres" -D "$DATA_DIR"
  local pid i
  pid="$(cat "$CACHE/postgres.pid")"
  for ((i = 0; i < 60; i++)); do
    if ready; then
      if ! as_postgres "$BIN/psql" -h "$HOST" -p "$PORT" -U postgres -d postgres -Xqc 'CREATE DATABASE qmtl' >&2; then
        log "postgres: CREATE DATABASE qmtl failed"
        return 1
      fi
      log "postgres: $("$BIN/postgres" --version) ready on $HOST:$PORT in $((SECONDS - began)) s (log: $LOG)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  log "postgres: SELECT 1 never succeeded; last log lines:"
  tail -n 30 "$LOG" >&2
  stop
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
