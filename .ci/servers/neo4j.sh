#!/usr/bin/env bash
# Neo4j 5.26 (the last LTS line on Java 17) from Maven Central, on loopback: Bolt 127.0.0.1:7687,
# no auth, no TLS, no HTTP server. The in-process harness runs inside .ci/neo4j/Neo4jLauncher.java
# (compiled here with javac, so a JDK is needed). Every start gets a fresh, empty store.
# Usage: bash .ci/servers/neo4j.sh start|stop
set -uo pipefail
source "$(dirname "$0")/../lib.sh"

HOME_DIR="$CACHE/neo4j"
LIB="$HOME_DIR/lib"
CLASSES="$HOME_DIR/classes"
WORK_DIR="$HOME_DIR/work"
LOG="$HOME_DIR/neo4j.log"
SOURCE="$ROOT/.ci/neo4j/Neo4jLauncher.java"
PORT=7687
HEAP="${QMTL_CI_NEO4J_HEAP:-1g}"

# compile_launcher: javac once, and again whenever the source changes.
compile_launcher() {
  [ "$CLASSES/Neo4jLauncher.class" -nt "$SOURCE" ] && return 0
  command -v javac >/dev/null || apt_install openjdk-17-jdk-headless || return 1
  mkdir -p "$CLASSES"
  javac -nowarn -cp "$LIB/*" -d "$CLASSES" "$SOURCE" >&2
}

start() {
  stop_daemon neo4j
  maven_libs "$ROOT/.ci/poms/neo4j.xml" "$LIB" || return 1
  compile_launcher || { log "neo4j: compiling $SOURCE failed"; return 1; }
  rm -rf "$WORK_DIR"
  mkdir -p "$WORK_DIR"
  local began=$SECONDS
  start_daemon neo4j "$LOG" java "-Xms256m" "-Xmx$HEAP" -XX:+UseG1GC -Djava.awt.headless=true \
    -Djava.io.tmpdir="$WORK_DIR" -cp "$CLASSES:$LIB/*" Neo4jLauncher "$WORK_DIR" "$PORT"
  local pid i
  pid="$(cat "$CACHE/neo4j.pid")"
  for ((i = 0; i < 120; i++)); do
    if grep -q '^READY ' "$LOG" 2>/dev/null && wait_port 127.0.0.1 "$PORT" 1; then
      log "neo4j: $(grep -m 1 '^READY ' "$LOG"); up in $((SECONDS - began)) s (log: $LOG)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  log "neo4j: no READY line with port $PORT open; last log lines:"
  tail -n 30 "$LOG" >&2
  stop_daemon neo4j
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop_daemon neo4j ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
