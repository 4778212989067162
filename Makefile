# agentwatch: two commands matter.
#   make run    set everything up, build, and start agentwatch
#   make test   set everything up and run every test
# Everything shares one target dir, so nothing is built twice.

SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TARGET_DIR ?= $(CURDIR)/target
BIN := $(CARGO_TARGET_DIR)/release/agentwatch
DEBUG_BIN := $(CARGO_TARGET_DIR)/debug/agentwatch

.PHONY: run test build setup lint unit parity clean help

help:
	@echo "make run    set up, build, and show today's agent sessions and costs"
	@echo "make test   set up and run every test (format, lint, unit, end-to-end, parity)"
	@echo "make build  release binaries in $(CARGO_TARGET_DIR)/release"

setup:
	@scripts/setup.sh

build: setup
	$(CARGO) build --release --locked -p agentwatch-cli

run: build
	@echo; echo "== Sessions =="; $(BIN) sessions
	@echo; echo "== Today's costs =="; $(BIN) costs daily --since "$$(date +%F)" --breakdown --no-ingest

test: setup lint unit parity
	@echo "All tests passed."

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

unit:
	$(CARGO) test --locked --workspace

# Same files, same timezone: our daily report must equal ccusage's.
parity:
	$(CARGO) build --locked -p agentwatch-cli
	bench/parity --agentwatch $(DEBUG_BIN)

clean:
	$(CARGO) clean
