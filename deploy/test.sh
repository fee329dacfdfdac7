#!/usr/bin/env bash
# Validates the compose files of the mine and cluster deployments. No
# Docker engine is needed: `docker-compose config` parses and resolves
# them, which catches broken YAML, anchors and references.
set -euo pipefail
cd "$(dirname "$0")"
passed=0
failed=0
for dir in mine cluster; do
  if (cd "$dir" && docker-compose config -q); then
    echo "deploy: $dir/docker-compose.yml is valid"
    passed=$((passed + 1))
  else
    echo "deploy: $dir/docker-compose.yml is INVALID" >&2
    failed=$((failed + 1))
  fi
done
echo "deploy: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
