# sluice — developer tasks. CI runs .ci/run, which runs the same steps.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/sluice-ml/sluice/ui/cli.Version=$(VERSION)

.PHONY: all build fmt vet lint test race bench bench-compare check

all: fmt vet test

build:
	go build -ldflags "$(LDFLAGS)" -o sluice .

fmt:
	gofmt -l -w .

vet:
	go vet ./...

lint: vet
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)

test:
	go test ./...

race:
	go test -race ./engine/... ./store/... ./ui/...

bench:
	go test -run '^$$' -bench . -benchmem ./engine/frame ./store ./ml ./ui/...

# Side by side with XGBoost, scikit-learn and pandas on generated data
# (needs Debian's python3-sklearn, python3-xgboost, python3-pandas; skips
# with a message without them). Rewrites the table in ml/BENCHMARKS.md.
ROWS ?= 80000
CSV_ROWS ?= 1000000
ROUNDS ?= 3
TASKS ?=
ANCHORS ?=
bench-compare:
	go run ./internal/benchcompare -rows $(ROWS) -csv-rows $(CSV_ROWS) -rounds $(ROUNDS) -tasks "$(TASKS)" -anchors "$(ANCHORS)" -update ml/BENCHMARKS.md

# Every fuzz target for FUZZTIME each (make fuzz FUZZTIME=10m); prints the
# executions per target. Crashers are kept under testdata/fuzz.
FUZZTIME ?= 30s
fuzz:
	FUZZTIME=$(FUZZTIME) .ci/fuzz

check: lint test race
