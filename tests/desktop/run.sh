#!/usr/bin/env bash
# Runs the desktop end-to-end test on the real app: a private X display
# (Xvfb) and D-Bus session, tauri-driver + WebKitWebDriver, a fake agent.
#
#   tests/desktop/run.sh            build what is missing, then test
#   tests/desktop/run.sh --keep     keep the temp dir and logs
#
# Needs: Debian packages xvfb xauth dbus-x11 dunst webkit2gtk-driver (and the
# Tauri build packages), `cargo install tauri-driver --locked`, npm.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
tests/desktop/venv.sh
command -v tauri-driver >/dev/null || [ -x "$HOME/.cargo/bin/tauri-driver" ] || {
  echo "tauri-driver is missing: cargo install tauri-driver --locked" >&2; exit 1; }
[ -d ui/node_modules ] || npm --prefix ui ci
[ -f ui/dist/index.html ] || npm --prefix ui run build
cargo build --locked -p agentwatch-cli -p agentwatch-desktop
export AGENTWATCH_DESKTOP_BIN="${AGENTWATCH_DESKTOP_BIN:-$CARGO_TARGET_DIR/debug/agentwatch-desktop}"
export AGENTWATCH_BIN="${AGENTWATCH_BIN:-$CARGO_TARGET_DIR/debug/agentwatch}"
# xvfb-run exports DISPLAY first; dbus-run-session then gives a private bus.
exec xvfb-run -a -s "-screen 0 1440x900x24" \
  dbus-run-session -- "$root/.venv/bin/python" "$root/tests/desktop/e2e.py" "$@"
