# sluice — developer tasks. CI runs .ci/run, which runs the same steps.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/sluice-ml/sluice/ui/cli.Version=$(VERSION)

.PHONY: all build fmt vet lint test race bench bench-compare check temporal-test

all: fmt vet test

build:
	go build -ldflags "$(LDFLAGS)" -o sluice .

fmt:
	gofmt -l -w .

vet:
	go vet ./...

# golangci-lint at the version CI pins (.ci/run); the configuration is
# .golangci.yml. go run builds it once into the build cache.
GOLANGCI_LINT_VERSION ?= v2.15.0
lint: vet
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	go run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) run ./...

test:
	go test ./...

race:
	go test -race ./engine/... ./store/... ./ui/...

# The tests against a real Temporal server: engine/temporal/itest is a
# module of its own (the server is its dependency, never the main
# module's). Its first build compiles the server: about 10 minutes on 2
# cores; later runs take a minute or two.
temporal-test:
	cd engine/temporal/itest && go vet ./... && go test -count=1 ./...

bench:
	go test -run '^$$' -bench . -benchmem ./engine/frame ./store ./ml ./ui/...

# Side by side with XGBoost, scikit-learn and pandas on generated data
# (needs Debian's python3-sklearn, python3-xgboost, python3-pandas; skips
# with a message without them). Rewrites the table in ml/BENCHMARKS.md.
ROWS ?= 80000
CSV_ROWS ?= 1000000
ROUNDS ?= 3
SCALE ?= auto
TASKS ?=
ANCHORS ?=
NOTE ?=
bench-compare:
	go run ./internal/benchcompare -rows $(ROWS) -csv-rows $(CSV_ROWS) -rounds $(ROUNDS) -tasks "$(TASKS)" -anchors "$(ANCHORS)" -scale "$(SCALE)" -note "$(NOTE)" -update ml/BENCHMARKS.md

# Every fuzz target for FUZZTIME each (make fuzz FUZZTIME=10m); prints the
# executions per target. Crashers are kept under testdata/fuzz.
FUZZTIME ?= 30s
fuzz:
	FUZZTIME=$(FUZZTIME) .ci/fuzz

check: lint test race
