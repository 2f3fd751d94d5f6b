#!/usr/bin/env bash
# Redis (Debian's redis-server) on 127.0.0.1:6379, run as our own foreground daemon rather than
# the system service. AOF on (appendfsync everysec) and RDB snapshots off, as the Gateway runs it
# (SPEC §4). Every start gets a fresh data dir, so tests never see a previous run's keys.
# Ready = the server answers PING.
# Usage: bash .ci/servers/redis.sh start|stop
set -uo pipefail
source "$(dirname "$0")/../lib.sh"

HOST=127.0.0.1
PORT=6379
HOME_DIR="$CACHE/redis"
DATA="$HOME_DIR/data"
LOG="$HOME_DIR/redis.log"

# Succeeds when the server answers PING with PONG (redis-cli when present, else raw RESP).
ping_redis() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -h "$HOST" -p "$PORT" ping 2>/dev/null)" = PONG ]
  else
    local reply
    reply="$(
      { exec 3<>"/dev/tcp/$HOST/$PORT"; } 2>/dev/null || exit 1
      printf 'PING\r\n' >&3
      timeout 2 head -c 7 <&3
    )"
    [ "${reply%$'\r'*}" = +PONG ]
  fi
}

start() {
  stop_daemon redis
  apt_install redis-server || return 1
  if ping_redis; then
    log "redis: something else already answers on $HOST:$PORT (a system redis-server?); stop it first"
    return 1
  fi
  rm -rf "$DATA"
  mkdir -p "$DATA"
  local began=$SECONDS
  # An empty --save disables RDB snapshots; --logfile '' logs to stdout, which start_daemon keeps.
  start_daemon redis "$LOG" redis-server \
    --bind "$HOST" --port "$PORT" --protected-mode yes \
    --daemonize no --supervised no --pidfile '' --logfile '' \
    --dir "$DATA" --appendonly yes --appendfsync everysec --save ''
  local pid i
  pid="$(cat "$CACHE/redis.pid")"
  for ((i = 0; i < 40; i++)); do
    if ping_redis; then
      log "redis: ready in $((SECONDS - began)) s (log: $LOG)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  log "redis: PING never answered within 20 s; last log lines:"
  tail -n 30 "$LOG" >&2
  stop_daemon redis
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop_daemon redis ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
