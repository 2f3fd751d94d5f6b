#!/usr/bin/env bash
# Kafka 3.9.1 (kafka_2.13) from Maven Central, KRaft combined mode on loopback: clients on
# 127.0.0.1:19092, controller on 19093. Every start formats a fresh log dir, so tests never see a
# previous run's topics. Ready = the port is open and the broker answers a Metadata request.
# Usage: bash .ci/servers/kafka.sh start|stop
set -uo pipefail
source "$(dirname "$0")/../lib.sh"

HOME_DIR="$CACHE/kafka"
LIB="$HOME_DIR/lib"
DATA="$HOME_DIR/data"
TMP_DIR="$HOME_DIR/tmp"
CONFIG="$HOME_DIR/server.properties"
LOG="$HOME_DIR/kafka.log"
CONF_SRC="$ROOT/.ci/kafka"

# zstd-jni and snappy unpack native code into a temp dir; keep it out of a possibly noexec /tmp.
JAVA=(java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
  -Dlog4j.configuration="file:$CONF_SRC/log4j.properties"
  -Djava.io.tmpdir="$TMP_DIR" -DZstdTempFolder="$TMP_DIR" -Dorg.xerial.snappy.tempdir="$TMP_DIR"
  -cp "$LIB/*")

# Succeeds when the broker answers a Metadata v1 request (for no topics) listing a broker. Plain
# Node with no npm dependency: servers start before `npm ci`. Usage: metadata_probe HOST PORT
metadata_probe() {
  node --input-type=module -e "$(
    cat <<'JS'
import { connect } from 'node:net';

const [host, port] = process.argv.slice(1);
const METADATA = 3;
const clientId = Buffer.from('qmtl-ci-probe');

// Request header v1 (api key, version, correlation id, client id) + body: an empty topic array.
const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4);
let at = body.writeInt16BE(METADATA, 0);
at = body.writeInt16BE(1, at);
at = body.writeInt32BE(42, at);
at = body.writeInt16BE(clientId.length, at);
at += clientId.copy(body, at);
body.writeInt32BE(0, at);
const frame = Buffer.concat([Buffer.alloc(4), body]);
frame.writeInt32BE(body.length, 0);

const fail = (why) => {
  console.error(`kafka probe: ${why}`);
  process.exit(1);
};
const socket = connect({ host, port: Number(port) }, () => socket.write(frame));
socket.setTimeout(5000, () => fail('timed out'));
socket.on('error', (error) => fail(error.message));
let received = Buffer.alloc(0);
socket.on('data', (chunk) => {
  received = Buffer.concat([received, chunk]);
  if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return;
  socket.end();
  // Reply: size, correlation id, then the broker array (node id, host, port, nullable rack).
  if (received.readInt32BE(4) !== 42) fail('unexpected correlation id');
  const brokers = received.readInt32BE(8);
  if (brokers < 1) fail('metadata lists no broker yet');
  const hostLength = received.readInt16BE(16);
  const brokerHost = received.toString('utf8', 18, 18 + hostLength);
  const brokerPort = received.readInt32BE(18 + hostLength);
  console.log(`brokers=${brokers} first=${brokerHost}:${brokerPort}`);
  process.exit(0);
});
JS
  )" "$1" "$2"
}

# A random cluster id in Kafka's Uuid form: 16 bytes, URL-safe base64 without padding.
cluster_id() { head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }

start() {
  stop_daemon kafka
  maven_libs "$ROOT/.ci/poms/kafka.xml" "$LIB" || return 1
  rm -rf "$DATA"
  mkdir -p "$DATA" "$TMP_DIR"
  { cat "$CONF_SRC/server.properties"; echo "log.dirs=$DATA"; } >"$CONFIG"
  local began=$SECONDS
  if ! "${JAVA[@]}" kafka.tools.StorageTool format -t "$(cluster_id)" -c "$CONFIG" >"$HOME_DIR/format.log" 2>&1; then
    log "kafka: formatting $DATA failed:"
    cat "$HOME_DIR/format.log" >&2
    return 1
  fi
  start_daemon kafka "$LOG" "${JAVA[@]}" kafka.Kafka "$CONFIG"
  if ! wait_port 127.0.0.1 19092 60; then
    log "kafka: port 19092 did not open; last log lines:"
    tail -n 30 "$LOG" >&2
    return 1
  fi
  local i
  for ((i = 0; i < 30; i++)); do
    if metadata_probe 127.0.0.1 19092 >/dev/null 2>&1; then
      log "kafka: ready in $((SECONDS - began)) s (log: $LOG)"
      return 0
    fi
    sleep 1
  done
  log "kafka: the broker never answered a Metadata request; last log lines:"
  tail -n 30 "$LOG" >&2
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop_daemon kafka ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
