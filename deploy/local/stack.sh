#!/usr/bin/env bash
# Starts and stops the local Minewatch stack on loopback:
#
#   stack.sh up       start everything (restarts what runs already)
#   stack.sh down     stop what `up` started, and only that
#   stack.sh status   show what runs
#   stack.sh clean    stop, then delete the state folder
#
# Programs: VictoriaMetrics (scraping mine-exporter), vmalert (rules/*.yml),
# Alertmanager (alertmanager/alertmanager.yml), the alert recorder (the
# webhook receiver of every route), Mosquitto, mine-exporter and minesim.
# `make deps` installs them and `make build` builds bin/.
#
# State (data, configs, pid files, logs, the national inbox) lives in
# STATE_DIR, default .state/ in the repository. Ports come from the
# variables below; the config files in deploy/local name the default
# ports and are copied to STATE_DIR/conf with every 127.0.0.1:<default
# port> replaced, so a second stack on other ports (the end-to-end test)
# never clashes with this one. Modbus gateways at 127.0.0.1:15020-15099
# move to MODBUS_BASE_PORT and up.
#
# MINESIM_EXTRA_ARGS adds minesim flags, for example
# "--national.interval=20s" for a faster national cadence.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
LOCAL="$REPO/deploy/local"
STATE_DIR=${STATE_DIR:-$REPO/.state}
BIN_DIR=${BIN_DIR:-$REPO/bin}
TOOLS_DIR=${TOOLS_DIR:-$REPO/.tools/bin}

export VM_PORT=${VM_PORT:-8428}
export VMALERT_PORT=${VMALERT_PORT:-8880}
export ALERTMANAGER_PORT=${ALERTMANAGER_PORT:-9093}
export RECORDER_PORT=${RECORDER_PORT:-9097}
export EXPORTER_PORT=${EXPORTER_PORT:-9761}
export MQTT_PORT=${MQTT_PORT:-1883}
export MODBUS_BASE_PORT=${MODBUS_BASE_PORT:-15020}
export RTSP_PORT=${RTSP_PORT:-8554}
export PLUGIN_PORT=${PLUGIN_PORT:-3300}

ALERTMANAGER_CONFIG=${ALERTMANAGER_CONFIG:-$REPO/alertmanager/alertmanager.yml}
RULES_DIR=${RULES_DIR:-$REPO/rules}
MINESIM_EXTRA_ARGS=${MINESIM_EXTRA_ARGS:-}
# Seconds each program may take to become ready.
READY_TIMEOUT=${READY_TIMEOUT:-60}

HOST=127.0.0.1
CONF="$STATE_DIR/conf"
RUN="$STATE_DIR/run"
LOGS="$STATE_DIR/logs"
# Start order; `down` stops in reverse.
COMPONENTS=(victoria-metrics alertmanager alert-recorder mosquitto vmalert mine-exporter minesim)

log() { printf 'stack: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

# find_binary NAME: the path of a program, from bin/, .tools/bin or PATH.
find_binary() {
  local name=$1
  for dir in "$BIN_DIR" "$TOOLS_DIR"; do
    if [[ -x "$dir/$name" ]]; then
      echo "$dir/$name"
      return
    fi
  done
  command -v "$name" || die "$name not found in $BIN_DIR, $TOOLS_DIR or PATH: run \`make deps build\` first"
}

# render SRC DST: copy a config, moving default loopback ports to the
# configured ones and the default state folder to STATE_DIR.
render() {
  STATE_DIR="$STATE_DIR" perl -pe '
    BEGIN {
      %port = (8428 => $ENV{VM_PORT}, 8880 => $ENV{VMALERT_PORT}, 9093 => $ENV{ALERTMANAGER_PORT},
               9097 => $ENV{RECORDER_PORT}, 9761 => $ENV{EXPORTER_PORT}, 1883 => $ENV{MQTT_PORT},
               8554 => $ENV{RTSP_PORT}, 3300 => $ENV{PLUGIN_PORT});
    }
    s{\b(127\.0\.0\.1|localhost):(\d+)\b}{
      my ($h, $p) = ($1, $2);
      exists $port{$p} ? "$h:$port{$p}"
        : ($p >= 15020 && $p <= 15099) ? "$h:" . ($ENV{MODBUS_BASE_PORT} + $p - 15020)
        : "$h:$p"
    }ge;
    s{\.\./\.\./\.state\b}{$ENV{STATE_DIR}}g;
  ' "$1" >"$2"
}

pid_of() {
  local file="$RUN/$1.pid"
  [[ -f "$file" ]] && cat "$file"
}

# owned NAME PID: whether PID still runs the program `up` started as NAME,
# so a pid reused by another process is never signalled.
owned() {
  local pid=$2 exe
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  exe=$(readlink -f "/proc/$pid/exe" 2>/dev/null) || return 1
  # A program whose file was replaced while it ran (`make build` during
  # the stack) links to "<path> (deleted)". It is still the one `up` started.
  exe=${exe% (deleted)}
  [[ "$exe" == "$(cat "$RUN/$1.exe" 2>/dev/null)" ]]
}

# start NAME DIR CMD...: run CMD in DIR in the background, logging to
# LOGS/NAME.log, and remember its pid and program. It returns once the
# background shell has become CMD (or exited), so `down` never sees a pid
# that still runs bash.
start() {
  local name=$1 dir=$2 pid exe
  shift 2
  : >"$LOGS/$name.log"
  (cd "$dir" && exec setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null) &
  pid=$!
  exe=$(readlink -f "$1")
  echo "$exe" >"$RUN/$name.exe"
  echo "$pid" >"$RUN/$name.pid"
  for _ in $(seq 1 100); do
    [[ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" == "$exe" ]] && return 0
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
}

# wait_ready NAME CHECK...: poll CHECK until it succeeds. It fails when the
# program exits or READY_TIMEOUT passes.
wait_ready() {
  local name=$1
  shift
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if ! owned "$name" "$(pid_of "$name")"; then
      log "$name exited while starting; last lines of $LOGS/$name.log:"
      tail -n 30 "$LOGS/$name.log" >&2 || true
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "$name not ready within ${READY_TIMEOUT}s; last lines of $LOGS/$name.log:"
      tail -n 30 "$LOGS/$name.log" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

# start_failed: stop what `up` started so far and exit.
start_failed() {
  log "start failed, stopping what was started"
  down
  exit 1
}

# http_ok URL: whether GET URL returns 200. Plain bash, so that the
# stack needs no HTTP client installed.
http_ok() (
  rest=${1#http://}
  hostport=${rest%%/*}
  path=/${rest#*/}
  exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$hostport" >&3
  IFS= read -r -t 2 status <&3 || status=""
  [[ "$status" == *" 200 "* ]]
)
# vm_query_has QUERY: whether an instant query on VictoriaMetrics returns
# a series. The query must need no URL encoding.
vm_query_has() (
  exec 3<>"/dev/tcp/$HOST/$VM_PORT" || return 1
  printf 'GET /api/v1/query?query=%s HTTP/1.0\r\nHost: %s:%s\r\n\r\n' "$1" "$HOST" "$VM_PORT" >&3
  timeout 5 cat <&3 | grep -q '"metric":'
)
tcp_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
log_has() { grep -q "$2" "$LOGS/$1.log"; }

stop_one() {
  local name=$1 pid
  pid=$(pid_of "$name") || return 0
  if owned "$name" "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name (pid $pid) did not stop within 10s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "stopped $name (pid $pid)"
  elif kill -0 "$pid" 2>/dev/null; then
    log "$name: pid $pid now runs another program, so it is left running"
  fi
  rm -f "$RUN/$name.pid" "$RUN/$name.exe"
}

down() {
  [[ -d "$RUN" ]] || return 0
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    stop_one "${COMPONENTS[$i]}"
  done
}

# check_ports_free: fail when another program already listens on one of
# the stack's ports, since its answers would pass the readiness checks.
check_ports_free() {
  local var busy=()
  for var in VM_PORT VMALERT_PORT ALERTMANAGER_PORT RECORDER_PORT EXPORTER_PORT MQTT_PORT; do
    if tcp_open "${!var}"; then
      busy+=("$var=${!var}")
    fi
  done
  if ((${#busy[@]})); then
    die "ports in use by other programs: ${busy[*]}; stop them or set these variables to free ports"
  fi
}

prepare() {
  mkdir -p "$CONF" "$RUN" "$LOGS" "$STATE_DIR/inbox" "$STATE_DIR/victoria-metrics" \
    "$STATE_DIR/alertmanager"
  [[ -f "$ALERTMANAGER_CONFIG" ]] || die "Alertmanager config $ALERTMANAGER_CONFIG is missing"
  compgen -G "$RULES_DIR/*.yml" >/dev/null || die "no rule files in $RULES_DIR"

  render "$LOCAL/promscrape.yml" "$CONF/promscrape.yml"
  render "$LOCAL/mine-exporter.yml" "$CONF/mine-exporter.yml"
  render "$LOCAL/minesim.args" "$CONF/minesim.args"
  # Alertmanager resolves template paths from its config's folder, so the
  # whole folder is copied.
  rm -rf "$CONF/alertmanager"
  cp -r "$(dirname "$ALERTMANAGER_CONFIG")" "$CONF/alertmanager"
  render "$ALERTMANAGER_CONFIG" "$CONF/alertmanager/alertmanager.yml"
  cat >"$CONF/mosquitto.conf" <<EOF
listener $MQTT_PORT $HOST
allow_anonymous true
persistence false
EOF
}

up() {
  local vm alertmanager recorder mosquitto vmalert exporter minesim
  vm=$(find_binary victoria-metrics)
  vmalert=$(find_binary vmalert)
  alertmanager=$(find_binary prometheus-alertmanager)
  mosquitto=$(find_binary mosquitto)
  recorder=$(find_binary alert-recorder)
  exporter=$(find_binary mine-exporter)
  minesim=$(find_binary minesim)
  command -v perl >/dev/null || die "perl is missing: apt-get install perl"

  down
  check_ports_free
  prepare

  start victoria-metrics "$STATE_DIR" "$vm" \
    -httpListenAddr="$HOST:$VM_PORT" \
    -storageDataPath="$STATE_DIR/victoria-metrics" \
    -retentionPeriod=1y \
    -promscrape.config="$CONF/promscrape.yml" \
    -search.disableCache
  wait_ready victoria-metrics http_ok "http://$HOST:$VM_PORT/health" || start_failed

  start alertmanager "$STATE_DIR" "$alertmanager" \
    --config.file="$CONF/alertmanager/alertmanager.yml" \
    --storage.path="$STATE_DIR/alertmanager" \
    --web.listen-address="$HOST:$ALERTMANAGER_PORT" \
    --web.external-url="http://$HOST:$ALERTMANAGER_PORT" \
    --cluster.listen-address=
  wait_ready alertmanager http_ok "http://$HOST:$ALERTMANAGER_PORT/-/ready" || start_failed

  start alert-recorder "$STATE_DIR" "$recorder" \
    --web.listen-address="$HOST:$RECORDER_PORT" \
    --output="$STATE_DIR/alerts.jsonl"
  wait_ready alert-recorder http_ok "http://$HOST:$RECORDER_PORT/-/healthy" || start_failed

  start mosquitto "$STATE_DIR" "$mosquitto" -c "$CONF/mosquitto.conf"
  wait_ready mosquitto tcp_open "$MQTT_PORT" || start_failed

  start vmalert "$STATE_DIR" "$vmalert" \
    -httpListenAddr="$HOST:$VMALERT_PORT" \
    -rule="$RULES_DIR/*.yml" \
    -datasource.url="http://$HOST:$VM_PORT" \
    -remoteWrite.url="http://$HOST:$VM_PORT" \
    -remoteRead.url="http://$HOST:$VM_PORT" \
    -notifier.url="http://$HOST:$ALERTMANAGER_PORT" \
    -external.url="http://$HOST:$VMALERT_PORT" \
    -evaluationInterval=15s
  wait_ready vmalert http_ok "http://$HOST:$VMALERT_PORT/health" || start_failed

  # Relative paths in mine-exporter.yml and minesim.args resolve from
  # deploy/local, where the registry, the scenario and the samples are.
  start mine-exporter "$LOCAL" "$exporter" \
    --config="$CONF/mine-exporter.yml" \
    --web.listen-address="$HOST:$EXPORTER_PORT" \
    --national.inbox="$STATE_DIR/inbox"
  wait_ready mine-exporter http_ok "http://$HOST:$EXPORTER_PORT/-/healthy" || start_failed

  # Alerts take mine_name, city and county from the registry metrics
  # (through the recording rule mine:labels), which reach VictoriaMetrics
  # by scrape. Queries see a sample only 30s after it lands
  # (-search.latencyOffset), so without these waits the backfilled national
  # data would fire alerts that lack them and go to the default receiver.
  wait_ready victoria-metrics vm_query_has mine_info || start_failed
  if grep -qs 'record: *mine:labels' "$RULES_DIR"/*.yml; then
    wait_ready vmalert vm_query_has mine:labels || start_failed
  fi

  # shellcheck disable=SC2086 # MINESIM_EXTRA_ARGS is a list of flags.
  start minesim "$LOCAL" "$minesim" "@$CONF/minesim.args" $MINESIM_EXTRA_ARGS
  wait_ready minesim log_has minesim "channel started" || start_failed

  print_urls
}

print_urls() {
  cat <<EOF
Minewatch local stack is up; state and logs in $STATE_DIR
  VictoriaMetrics  http://$HOST:$VM_PORT/vmui/
  vmalert          http://$HOST:$VMALERT_PORT/vmalert/groups
  Alertmanager     http://$HOST:$ALERTMANAGER_PORT/
  alert recorder   http://$HOST:$RECORDER_PORT/alerts
  mine-exporter    http://$HOST:$EXPORTER_PORT/metrics
  Mosquitto        mqtt://$HOST:$MQTT_PORT
  national inbox   $STATE_DIR/inbox
Stop it with: make down
EOF
}

status() {
  local name pid
  for name in "${COMPONENTS[@]}"; do
    pid=$(pid_of "$name" || true)
    if owned "$name" "$pid"; then
      printf '%-17s running (pid %s)\n' "$name" "$pid"
    else
      printf '%-17s stopped\n' "$name"
    fi
  done
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
clean)
  down
  rm -rf "$STATE_DIR"
  ;;
*)
  echo "usage: $0 up|down|status|clean" >&2
  exit 2
  ;;
esac
