#!/usr/bin/env bash
# Validates the compose files of the mine and cluster deployments. No
# Docker engine is needed: `docker-compose config` parses and resolves
# them, which catches broken YAML, anchors and references. Then tests how
# `stack.sh down` picks the pids it stops (local/stack_test.sh).
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
if ./local/stack_test.sh; then
  passed=$((passed + 1))
else
  echo "deploy: local/stack_test.sh failed" >&2
  failed=$((failed + 1))
fi
echo "deploy: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
