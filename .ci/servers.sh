#!/usr/bin/env bash
# Starts or stops every test server on loopback: bash .ci/servers.sh start|stop [name...]
# Each server is a script .ci/servers/NAME.sh with `start` and `stop`; ports are in
# tests/support/servers.ts. Useful locally too (needs root for apt-get and Java 17 + Maven).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
action="${1:?usage: servers.sh start|stop [name...]}"
shift
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in "$ROOT"/.ci/servers/*.sh; do [ -e "$f" ] && names+=("$(basename "$f" .sh)"); done
fi
status=0
for name in "${names[@]}"; do
  log "$action $name"
  bash "$ROOT/.ci/servers/$name.sh" "$action" || { log "$action $name FAILED"; status=1; }
done
exit $status
