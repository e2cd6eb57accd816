# kycflow: `make run` brings the system up, `make test` runs every test. Both install what they need.

TEMPORAL_CLI_VERSION := v1.5.1
STATICCHECK_VERSION  := v0.8.2
BIN                  := $(CURDIR)/bin
TEMPORAL             := $(BIN)/temporal
# `go install` leaves the CLI's version at 0.0.0-DEV, which the dev server prints in its banner: stamp the pinned
# one. The stamp file's name carries the version, so changing TEMPORAL_CLI_VERSION rebuilds.
TEMPORAL_STAMP       := $(BIN)/.temporal-$(TEMPORAL_CLI_VERSION)
TEMPORAL_LDFLAGS     := -X github.com/temporalio/cli/temporalcli.Version=$(TEMPORAL_CLI_VERSION:v%=%)
STATICCHECK          := $(BIN)/staticcheck-$(STATICCHECK_VERSION)
COMMANDS             := kycflow-worker kycflow-relay kycflow kycflow-devstack kycflow-sandbox kycflow-demo kycflow-bench kycflow-cluster kycflow-chaos kycflow-codec
# Temporal's server and temporal-sql-tool for the cluster stack, built from the module proxy into bin/ once.
TEMPORAL_SERVER_VERSION := v1.29.1
SERVER_DIR           := $(BIN)/temporal-server-$(TEMPORAL_SERVER_VERSION:v%=%)
# The UI server the pinned CLI embeds, run on its own against the cluster.
TEMPORAL_UI_VERSION  := v2.42.1
UI_DIR               := $(BIN)/temporal-ui
UI_STAMP             := $(UI_DIR)/.stamp-$(TEMPORAL_UI_VERSION)
SERVER_SCHEMA        = $(shell go env GOMODCACHE)/go.temporal.io/server@$(TEMPORAL_SERVER_VERSION)/schema/postgresql/v12
GO_TEST_FLAGS        ?= -race -count=1

export KYCFLOW_TEMPORAL_BIN := $(TEMPORAL)
export KYCFLOW_UI_BIN       := $(UI_DIR)/server

.PHONY: all build run demo bench bench-cluster test unit lint fuzz temporal ui clean history cluster cluster-bin chaos

all: build

## temporal: build the pinned Temporal CLI (dev server + UI) into bin/ once; later calls reuse it.
temporal: $(TEMPORAL_STAMP)

$(TEMPORAL_STAMP):
	@echo "Building the Temporal CLI $(TEMPORAL_CLI_VERSION) into bin/ (first time only; a few minutes)..."
	GOBIN=$(BIN) go install -ldflags "$(TEMPORAL_LDFLAGS)" github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)
	touch $@

$(STATICCHECK):
	GOBIN=$(BIN) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(BIN)/staticcheck $@

## build: compile kycflow's binaries into bin/.
build:
	go build -o $(BIN)/ $(addprefix ./cmd/,$(COMMANDS))

## ui: build Temporal's UI server (the version the pinned CLI embeds) into bin/ once: unlike the dev server's own
## UI it can call the codec server with its sign-in cookie.
ui: $(UI_STAMP)

$(UI_STAMP):
	@echo "Building Temporal's UI server $(TEMPORAL_UI_VERSION) into bin/ (first time only; a minute or two)..."
	GOBIN=$(UI_DIR) go install github.com/temporalio/ui-server/v2/cmd/server@$(TEMPORAL_UI_VERSION)
	touch $@

## run: dev server, Temporal's UI (http://localhost:8233) with the codec server (:8089), provider sandbox (:8090),
## webhook relay (:8088) and worker, wired together; no provider account needed. Ctrl-C stops everything.
run: temporal ui build
	$(BIN)/kycflow-devstack

## cluster-bin: build Temporal's server and temporal-sql-tool (the pinned version) into bin/ once (a few minutes).
cluster-bin: $(SERVER_DIR)/.stamp $(UI_STAMP)

$(SERVER_DIR)/.stamp:
	@echo "Building Temporal's server $(TEMPORAL_SERVER_VERSION) and temporal-sql-tool into bin/ (first time only; a few minutes)..."
	GOBIN=$(SERVER_DIR) go install go.temporal.io/server/cmd/server@$(TEMPORAL_SERVER_VERSION)
	GOBIN=$(SERVER_DIR) go install go.temporal.io/server/cmd/tools/sql@$(TEMPORAL_SERVER_VERSION)
	touch $@

## cluster: kycflow on a production-shaped engine: PostgreSQL (in .data/cluster, or $$KYCFLOW_POSTGRES_URL), Temporal's
## server with mTLS and deploy/temporal's config, its UI (read-only, http://localhost:8080), the sandbox, two relays and
## two workers. Ctrl-C stops everything.
cluster: temporal cluster-bin build
	$(BIN)/kycflow-cluster -server $(SERVER_DIR)/server -sql-tool $(SERVER_DIR)/sql -ui $(UI_DIR)/server -schema $(SERVER_SCHEMA)

## chaos: the scenario matrix on a fresh cluster stack while a worker, a relay, Temporal's server and PostgreSQL are
## SIGKILLed and restarted (each more than once); fails unless every verification ends once with its scenario's
## outcome, none is stuck and no acknowledged webhook is missing from a history. `make chaos CHAOS_FLAGS=-seed=N`
## replays a schedule.
CHAOS_FLAGS ?=
chaos: cluster-bin build
	$(BIN)/kycflow-chaos -server $(SERVER_DIR)/server -sql-tool $(SERVER_DIR)/sql -schema $(SERVER_SCHEMA) $(CHAOS_FLAGS)

## demo: with `make run` up, one verification per scenario of every method, then a table of expected and actual outcomes.
demo: build
	$(BIN)/kycflow-demo

## bench: the whole stack as real processes, kycflow against the bare engine in one run; table on stdout, JSON in
## .bench/. Flags for bigger runs: `make bench BENCH_FLAGS="-flows 1000 -waiting 20000"`.
BENCH_FLAGS ?=
bench: temporal build
	$(BIN)/kycflow-bench $(BENCH_FLAGS)

## bench-cluster: the same benchmark on the PostgreSQL cluster of `make cluster` (mTLS, payloads encrypted).
bench-cluster: cluster-bin build
	$(BIN)/kycflow-bench -cluster -server $(SERVER_DIR)/server -sql-tool $(SERVER_DIR)/sql -schema $(SERVER_SCHEMA) $(BENCH_FLAGS)

## test: formatting, vet, staticcheck, a short fuzzing run of every parser of untrusted bytes, then every test:
## unit, replay, and integration and end-to-end against a real dev server.
test: temporal ui lint fuzz
	@[ -d ../shared/seeds ] || echo "notice: ../shared/seeds is not beside this clone, so the tests that check the reason catalogues against the providers' documentation are skipped (CI runs them)"
	@mkdir -p .artifacts
	go test $(GO_TEST_FLAGS) -artifacts -outputdir $(CURDIR)/.artifacts ./...
	@echo "test artifacts (the UI test's screenshots): .artifacts/_artifacts"

## fuzz: fuzz each target for FUZZTIME (seed corpora in relay/testdata/fuzz; `make fuzz FUZZTIME=5m` digs deeper).
## The default counts inputs rather than seconds: with a duration, Go 1.26's fuzz coordinator can fail a target with
## a bare "context deadline exceeded" when the time runs out under load, with no failing input (go.dev/issue/75804,
## fixed in Go 1.27); a count never reaches that deadline.
FUZZTIME ?= 5000x
fuzz:
	@log=$$(mktemp); for target in $$(go test -list '^Fuzz' ./relay/ | grep '^Fuzz'); do \
	  echo "fuzz $$target ($(FUZZTIME))"; \
	  go test -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZTIME) ./relay/ > $$log 2>&1 \
	    || { cat $$log; rm -f $$log; exit 1; }; \
	done; rm -f $$log

## unit: the tests that need no dev server (fast feedback while editing).
unit:
	go test $(GO_TEST_FLAGS) -short ./...

lint: $(STATICCHECK)
	@unformatted=$$(gofmt -l .); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	$(STATICCHECK) ./...

## history: re-export the replay-test history from a real run (see workflows/testdata/README.md).
history: temporal
	KYCFLOW_RECORD_HISTORY=$(CURDIR)/workflows/testdata go test -count=1 -run TestIntegration ./integration/

clean:
	rm -rf $(BIN) .data
