# agentwatch: two commands matter.
#   make run    set everything up, build, and start agentwatch
#   make test   set everything up and run every test
# Everything shares one target dir, so nothing is built twice.

SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TARGET_DIR ?= $(CURDIR)/target
BIN := $(CARGO_TARGET_DIR)/release/agentwatch
DESKTOP := $(CARGO_TARGET_DIR)/release/agentwatch-desktop
DEBUG_BIN := $(CARGO_TARGET_DIR)/debug/agentwatch

.PHONY: run test build setup ui lint platforms check-platforms unit ui-test desktop-e2e parity agents fuzz-smoke fuzz faults clean help

help:
	@echo "make run    set up, build, and start the tray app (the daemon where there is no display)"
	@echo "make test   set up and run every test: format, lint, type check, unit, end-to-end, parity"
	@echo "make build  release binaries in $(CARGO_TARGET_DIR)/release (agentwatch, agentwatch-desktop)"
	@echo "make check-platforms  type-check everything, the desktop app too, for Windows and macOS"

setup:
	@scripts/setup.sh

# The desktop app embeds ui/dist when it is compiled, so the UI comes first.
ui: setup
	npm --prefix ui run build

build: setup ui
	$(CARGO) build --release --locked -p agentwatch-cli -p agentwatch-desktop

# The tray app on a desktop; on a machine without one, the headless daemon.
run: build
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  echo "Starting agentwatch-desktop (it lives in the tray)."; exec $(DESKTOP); \
	else \
	  echo "No display: starting the headless daemon instead. Try \`$(BIN) sessions\` in another terminal."; \
	  exec $(BIN) daemon; \
	fi

test: setup lint platforms unit ui-test desktop-e2e parity agents
	@echo "All tests passed."

lint: ui
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	npm --prefix ui run check

# Windows and macOS: core and CLI, with their tests, type-checked and linted
# with -D warnings for x86_64-pc-windows-msvc and aarch64-apple-darwin
# (docs/platforms.md). Its target dir is outside the clone, reused later.
platforms: setup
	scripts/check-platforms --skip-if-unavailable

# The same with the desktop app (8 more minutes a target the first time):
# run it before resolving anything that touches src-tauri.
check-platforms: ui
	scripts/check-platforms --desktop

# Unit tests and the black-box tests of the CLI (real binary, real SQLite,
# real processes, real MCP clients, faults, security).
unit: ui
	$(CARGO) test --locked --workspace

# The UI's unit tests, then the built bundle in headless Chromium.
ui-test: ui
	npm --prefix ui test
	npm --prefix ui run e2e:only

# The real app under Xvfb and a private D-Bus, driven by tauri-driver, inside
# a network namespace with only loopback (checked with strace).
desktop-e2e: ui
	tests/security/offline-desktop.sh

# The real agent CLIs (Claude Code, Codex, Gemini CLI from npm, pinned in
# tests/agents/package-lock.json), driven offline in tmux against a loopback
# model stub: every live state agentwatch shows, checked against the agent.
# (`cargo test` alone skips them: they are #[ignore]d.) A test that fails
# runs once more on its own, and both runs are in the output (tests/agents/run).
agents: setup
	tests/agents/install.sh
	CARGO=$(CARGO) tests/agents/run

# Same files, same timezone: our daily report must equal ccusage's.
parity:
	$(CARGO) build --locked -p agentwatch-cli
	bench/parity --agentwatch $(DEBUG_BIN)

# Not part of `make test`, which replays the fuzz corpora as a unit test
# (crates/agentwatch-core/tests/fuzz_corpus.rs) instead of building the
# fuzzers (5-15 min): every target briefly, then the long runs (fuzz/README.md).
fuzz-smoke:
	fuzz/smoke.sh

fuzz:
	fuzz/run.sh 600

# Not part of `make test`: the 200 MB kill -9 run (docs/reliability.md).
faults: build
	bench/faults --agentwatch $(BIN)

clean:
	$(CARGO) clean
