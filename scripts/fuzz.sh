#!/usr/bin/env bash
# Runs each Go fuzz target for a short time (FUZZTIME, default 15s).
# Targets are found by name, so a new Fuzz function is picked up here.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-15s}
found=0
while IFS= read -r file; do
  pkg="./$(dirname "$file")"
  for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)' "$file" | awk '{print $2}'); do
    found=1
    echo "fuzz: $pkg $target for $FUZZTIME"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"
  done
done < <(grep -rl --include='*_test.go' -E '^func Fuzz' exporters || true)
if [[ $found -eq 0 ]]; then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi
