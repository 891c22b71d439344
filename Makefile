# sluice — developer tasks. CI runs .ci/run, which runs the same steps.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/sluice-ml/sluice/ui/cli.Version=$(VERSION)

.PHONY: all build fmt vet lint test race bench check

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

check: lint test race
