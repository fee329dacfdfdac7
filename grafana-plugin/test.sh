#!/usr/bin/env bash
# Tests of the Grafana app plugin: typecheck, lint, Jest, the frontend and
# backend builds, the Go tests, and the browser test of the mine map panel
# against real VictoriaMetrics, mine-exporter and vmalert in Debian's
# Chromium. Called by `make test-plugin`; exits non-zero on any failure.
#
# Needs: Node 20+ and npm (packages from the npm registry, installed here
# with `npm ci` when node_modules is missing or older than
# package-lock.json), Go, /usr/bin/chromium (or CHROMIUM=path), and
# .tools/bin/{victoria-metrics,vmalert} from `make deps`.
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n== %s\n' "$*"; }

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  npm ci --no-audit --no-fund
fi

step "typecheck"
npx tsc --noEmit
npx tsc -p tests/harness --noEmit

step "lint"
npx eslint --cache .

step "jest"
npx jest --ci --maxWorkers 2

step "frontend build"
npm run build

step "backend tests"
# Explicit patterns: ./... would descend into node_modules, where some
# npm packages ship Go files.
go vet ./pkg/... ./tests/...
go test -count=1 ./pkg/... ./tests/...

step "backend build (mage build:linux)"
# mage comes from go.mod (an indirect dependency of the plugin SDK), so no
# mage binary needs to be installed.
go run github.com/magefile/mage -v build:linux

step "browser test"
node --test tests/browser/
