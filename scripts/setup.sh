#!/usr/bin/env bash
# Installs what agentwatch needs to build and test, if it is missing.
# Idempotent: a second run installs nothing. Used by `make run` and `make test`.
#
#   scripts/setup.sh          build + test dependencies
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "setup: $*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# --- Debian/Ubuntu packages ---------------------------------------------------
APT_PACKAGES=(
  build-essential pkg-config ca-certificates curl git
  time                       # /usr/bin/time for the benchmarks
  nodejs npm                 # the UI build, the ccusage parity check, fake agents in tests
  python3 python3-venv       # MCP client tests
  libdbus-1-dev              # desktop notifications (notify-rust)
  # The Tauri desktop app.
  libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev
  libayatana-appindicator3-dev librsvg2-dev libssl-dev libxdo-dev
  # End-to-end tests: a private X display and session bus, a notification
  # daemon, the WebKit WebDriver, and Chromium for the UI tests.
  xvfb xauth dbus-x11 dunst libnotify-bin webkit2gtk-driver chromium
  # Security tests: strace, unshare -n and ip (a network namespace with only
  # loopback), setpriv (a process owned by another user).
  strace iproute2 util-linux
  # The real agent CLIs (tests/agents) run in terminals of their own.
  tmux
  # A real Prometheus scrapes `/metrics` in the tests (started by the test
  # itself, never as a service).
  prometheus
)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  # A node or npm that did not come from apt (nvm, the machine image) will do.
  case "$p" in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
  esac
  installed "$p" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  # No package starts a service of its own (Prometheus would): the tests
  # start what they need. policy-rc.d is the Debian way to say so; one the
  # machine already has is left as it is.
  made_policy=no
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod +x /usr/sbin/policy-rc.d
    made_policy=yes
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$made_policy" = no ] || as_root rm -f /usr/sbin/policy-rc.d
fi

# --- Rust -------------------------------------------------------------------
if ! command -v cargo >/dev/null; then
  echo "setup: cargo is not installed. Install Rust from https://rustup.rs (or your distribution) and run again." >&2
  exit 1
fi
if command -v rustup >/dev/null; then
  for c in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || { say "adding rust component $c"; rustup component add "$c"; }
  done
fi
# --- The Windows and macOS type check (scripts/check-platforms) -------------
# Debian's rustc-web toolchain (bookworm-security: 1.96) with the standard
# library's source, so `-Z build-std` can build std for those targets. It
# installs /usr/bin/cargo and /usr/bin/rustc; rustup's (~/.cargo/bin, first
# on PATH) stay the default, and check-platforms calls Debian's by full path.
# Where the packages do not exist (Ubuntu), check-platforms says so and
# `make test` skips that one step.
PLATFORM_PACKAGES=(rustc-web cargo-web rust-web-clippy rust-web-src libstd-rust-web-dev)
missing=()
for p in "${PLATFORM_PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  # The machine's package lists may be older than the security suite's 1.96.
  as_root apt-get update -qq
  # Into a variable first: grep -q would close the pipe early, and under
  # pipefail apt-cache's SIGPIPE would read as "not found".
  policy=$(apt-cache policy rustc-web 2>/dev/null || true)
  if grep -q 'Candidate: 1\.\(9[0-9]\|[1-9][0-9][0-9]\)' <<<"$policy"; then
    say "installing ${missing[*]} (the Windows/macOS type check)"
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "no rustc-web >= 1.90 in this system's packages: the Windows/macOS type check will be skipped"
  fi
fi

# --- Python: the MCP SDK (real MCP clients and servers in tests), and
# D-Bus and X bindings for the desktop test ---------------------------------
tests/mcp/venv.sh
tests/mcp/venv.sh --mcp2
tests/desktop/venv.sh

# --- The UI's npm packages, again whenever package-lock.json changes --------
if ! cmp -s ui/package-lock.json ui/node_modules/.agentwatch-lock 2>/dev/null; then
  say "installing the UI's npm packages"
  npm --prefix ui ci --no-audit --no-fund --loglevel=error
  cp ui/package-lock.json ui/node_modules/.agentwatch-lock
fi

# --- The npm MCP SDK, a real client in tests/cli/{proxy,mcp}.rs ------------
if ! cmp -s tests/mcp/node/package-lock.json tests/mcp/node/node_modules/.agentwatch-lock 2>/dev/null; then
  say "installing the MCP TypeScript SDK for the tests"
  npm --prefix tests/mcp/node ci --no-audit --no-fund --loglevel=error
  cp tests/mcp/node/package-lock.json tests/mcp/node/node_modules/.agentwatch-lock
fi

# --- tauri-driver, the WebDriver bridge of the desktop end-to-end test -----
if ! command -v tauri-driver >/dev/null && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ]; then
  say "installing tauri-driver from crates.io"
  cargo install tauri-driver --locked --version '^2' --quiet
fi

say "dependencies are in place"
