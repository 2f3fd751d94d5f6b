#!/usr/bin/env bash
# QuestDB 9.2.2 (the last release built for Java 17) from Maven Central, on loopback:
# PostgreSQL wire 8812, ILP over TCP 9009, HTTP 9000, min-HTTP (health) 9003. Telemetry off.
# Every start gets a fresh data root, so tests never see a previous run's tables.
# Usage: bash .ci/servers/questdb.sh start|stop
set -uo pipefail
source "$(dirname "$0")/../lib.sh"

HOME_DIR="$CACHE/questdb"
LIB="$HOME_DIR/lib"
ROOT_DIR="$HOME_DIR/root"
TMP_DIR="$HOME_DIR/tmp"
LOG="$HOME_DIR/questdb.log"

# SELECT 1 over the PostgreSQL wire when psql is installed, else over HTTP (/exec).
select_one() {
  if psql --version >/dev/null 2>&1; then
    PGPASSWORD=quest psql -h 127.0.0.1 -p 8812 -U admin -d qdb -tAc 'SELECT 1' 2>/dev/null | grep -qx 1
  else
    curl -fsS -G --data-urlencode 'query=SELECT 1' http://127.0.0.1:9000/exec 2>/dev/null | grep -q '"dataset":\[\[1\]\]'
  fi
}

start() {
  stop_daemon questdb
  maven_libs "$ROOT/.ci/poms/questdb.xml" "$LIB" || return 1
  local jar
  jar="$(ls "$LIB"/questdb-*.jar 2>/dev/null | head -n 1)"
  [ -n "$jar" ] || { log "questdb: no jar in $LIB"; return 1; }
  rm -rf "$ROOT_DIR"
  # Native libraries are unpacked into java.io.tmpdir; keep them out of a possibly noexec /tmp.
  mkdir -p "$ROOT_DIR" "$TMP_DIR"
  local began=$SECONDS
  start_daemon questdb "$LOG" env \
    QDB_HTTP_BIND_TO=127.0.0.1:9000 \
    QDB_HTTP_MIN_NET_BIND_TO=127.0.0.1:9003 \
    QDB_PG_NET_BIND_TO=127.0.0.1:8812 \
    QDB_LINE_TCP_NET_BIND_TO=127.0.0.1:9009 \
    QDB_LINE_UDP_ENABLED=false \
    QDB_TELEMETRY_ENABLED=false \
    java -Xmx512m -XX:+UseParallelGC -Djava.io.tmpdir="$TMP_DIR" \
    --add-exports java.base/jdk.internal.math=io.questdb \
    -p "$jar" -m io.questdb/io.questdb.ServerMain -d "$ROOT_DIR"
  if ! wait_port 127.0.0.1 8812 60 || ! wait_port 127.0.0.1 9009 30; then
    log "questdb: ports 8812/9009 did not open; last log lines:"
    tail -n 30 "$LOG" >&2
    return 1
  fi
  local i
  for ((i = 0; i < 30; i++)); do
    if select_one; then
      log "questdb: ready in $((SECONDS - began)) s (log: $LOG)"
      return 0
    fi
    sleep 1
  done
  log "questdb: SELECT 1 never succeeded; last log lines:"
  tail -n 30 "$LOG" >&2
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop_daemon questdb ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
