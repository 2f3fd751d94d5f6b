# Shared helpers for .ci/run and .ci/servers/*.sh (sourced, not run).
# Servers live under $CACHE (git-ignored); jars come from Maven into $CACHE/m2.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${QMTL_CI_CACHE:-$ROOT/.cache/infra}"
mkdir -p "$CACHE"

log() { echo "[ci] $*" >&2; }

# wait_port HOST PORT TIMEOUT_S: succeeds once a TCP connect works.
wait_port() {
  local i
  for ((i = 0; i < $3; i++)); do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 1
  done
  return 1
}

# apt_install PKG...: installs Debian packages that are missing (needs root; .ci/run ran apt-get update).
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# maven_libs POM OUTDIR: copies the runtime closure of POM's dependencies into OUTDIR (once).
maven_libs() {
  local pom="$1" out="$2"
  [ -f "$out/.complete" ] && return 0
  mkdir -p "$out"
  log "maven: resolving $(basename "$pom") into $out"
  mvn -B -q -Dmaven.repo.local="$CACHE/m2" -f "$pom" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$out" >&2 && touch "$out/.complete"
}

# start_daemon NAME LOGFILE CMD...: runs CMD in the background, its pid in $CACHE/NAME.pid.
start_daemon() {
  local name="$1" logfile="$2"
  shift 2
  nohup "$@" >"$logfile" 2>&1 &
  echo $! >"$CACHE/$name.pid"
}

# stop_daemon NAME: SIGTERM, then SIGKILL after 30 s.
stop_daemon() {
  local pidfile="$CACHE/$1.pid" pid i
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null
  for ((i = 0; i < 30; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -9 "$pid" 2>/dev/null
  rm -f "$pidfile"
}
