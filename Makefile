# Minewatch. `make up` starts the local stack with simulated mines;
# `make test` runs every test against real servers on loopback.

GO       ?= go
BIN      := $(CURDIR)/bin
TOOLS    := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)

.PHONY: all build deps up down test test-go test-fuzz test-rules test-alertmanager \
        test-plugin test-deploy test-dashboards test-e2e bench lint

all: build

build:
	$(GO) build -o $(BIN)/ ./exporters/cmd/...

deps:
	./scripts/deps.sh

up: deps build
	./deploy/local/stack.sh up

down:
	./deploy/local/stack.sh down

test: deps build
	$(MAKE) test-go test-fuzz test-rules test-alertmanager test-deploy test-dashboards test-plugin test-e2e

test-go:
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race ./exporters/power/... ./exporters/app/...

# Short fuzz runs of the parsers that take untrusted input.
test-fuzz:
	./scripts/fuzz.sh

test-rules:
	./rules/test.sh

test-alertmanager:
	./alertmanager/test.sh

test-plugin:
	./grafana-plugin/test.sh

test-deploy:
	./deploy/test.sh

# The dashboards are a Go module of their own, out of reach of ./...
test-dashboards:
	./dashboards/test.sh

test-e2e: build
	$(GO) test -count=1 -tags e2e -timeout 20m ./e2e/...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./exporters/...
