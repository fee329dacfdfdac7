#!/usr/bin/env bash
# Tests `stack.sh down` on stand-in programs (copies of sleep) under the
# names of the stack's programs, so no real server is started:
#   - a program whose file was replaced while it ran is still stopped;
#   - a pid that now runs another program is left running.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/state/run" "$tmp/bin"
failed=0
fail() {
  echo "stack_test: FAIL: $*" >&2
  failed=1
}

# start_as NAME: run a copy of sleep as bin/NAME and record it as stack.sh
# up does.
start_as() {
  cp "$(command -v sleep)" "$tmp/bin/$1"
  "$tmp/bin/$1" 300 &
  pids+=($!)
  echo $! >"$tmp/state/run/$1.pid"
  readlink -f "$tmp/bin/$1" >"$tmp/state/run/$1.exe"
}

start_as mine-exporter
rebuilt=${pids[-1]}
# Replace the file as `go build` does: a new file under the same name.
rm "$tmp/bin/mine-exporter"
cp "$(command -v sleep)" "$tmp/bin/mine-exporter"

start_as minesim
reused=${pids[-1]}
# Record another program's path, as if the pid had been reused.
echo /usr/bin/other-program >"$tmp/state/run/minesim.exe"

out=$(STATE_DIR="$tmp/state" "$here/stack.sh" down 2>&1)
sleep 0.5

if kill -0 "$rebuilt" 2>/dev/null; then
  fail "mine-exporter, rebuilt while it ran, is still running after down; output: $out"
fi
if ! kill -0 "$reused" 2>/dev/null; then
  fail "pid $reused, recorded for another program, was stopped; output: $out"
fi
if [[ "$out" != *"minesim: pid $reused now runs another program"* ]]; then
  fail "down did not log the pid it left running; output: $out"
fi

if ((failed)); then
  exit 1
fi
echo "stack_test: ok"
