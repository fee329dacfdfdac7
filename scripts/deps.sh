#!/usr/bin/env bash
# Installs every program the stack and the tests run: the pinned
# VictoriaMetrics binaries and amtool through `go install` into
# .tools/bin, and through apt, when missing, Debian's Alertmanager,
# Mosquitto and its clients, Chromium, ffmpeg, curl, PyYAML, a Chinese font and
# docker-compose (for config checks only). Safe to run again: present
# tools are kept.
set -euo pipefail
cd "$(dirname "$0")/.."

VM_VERSION=v1.151.0
AMTOOL_VERSION=v0.35.0
BIN="$PWD/.tools/bin"
mkdir -p "$BIN"

for app in victoria-metrics vmalert vmalert-tool vmagent; do
  if [[ ! -x "$BIN/$app" ]] || ! grep -q "$VM_VERSION" "$BIN/.$app.version" 2>/dev/null; then
    echo "deps: installing $app $VM_VERSION"
    GOBIN="$BIN" go install "github.com/VictoriaMetrics/VictoriaMetrics/app/$app@$VM_VERSION"
    echo "$VM_VERSION" > "$BIN/.$app.version"
  fi
done
if [[ ! -x "$BIN/amtool" ]]; then
  echo "deps: installing amtool $AMTOOL_VERSION"
  GOBIN="$BIN" go install "github.com/prometheus/alertmanager/cmd/amtool@$AMTOOL_VERSION"
fi

missing=()
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
command -v mosquitto >/dev/null || missing+=(mosquitto)
# mosquitto_pub and mosquitto_sub, for trying the positioning source by hand.
command -v mosquitto_pub >/dev/null || missing+=(mosquitto-clients)
command -v chromium >/dev/null || missing+=(chromium)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v curl >/dev/null || missing+=(curl)
# The alerting test renders notifications with PyYAML.
python3 -c 'import yaml' 2>/dev/null || missing+=(python3-yaml)
# A Chinese font, so that browser screenshots show mine and area names.
[[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]] || missing+=(fonts-wqy-microhei)
if ((${#missing[@]})); then
  echo "deps: installing Debian packages: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian packages start their own services; the stack and the tests
# run their own instances on other ports, so stop the packaged ones.
for svc in prometheus-alertmanager mosquitto; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done
echo "deps: ready in $BIN"
