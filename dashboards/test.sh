#!/usr/bin/env bash
# Tests of the Grafana dashboards: formatting, vet, and `go test`, which
# checks that generated/ is up to date, that uids are unique, that the
# alert notifications' link finds the mine dashboard and its variable,
# that every metric and label is documented, and runs every query against
# a real VictoriaMetrics on a free loopback port.
#
# Needs Go and .tools/bin/victoria-metrics from `make deps` (or
# VICTORIA_METRICS_BIN=path). The first run downloads this module's
# dependencies from the Go module proxy. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"

unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt needed on: $unformatted" >&2
  exit 1
fi
go vet ./...
go test -count=1 ./...
