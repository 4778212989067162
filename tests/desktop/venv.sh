#!/usr/bin/env bash
# Installs tests/desktop/requirements.txt into the repository's venv (.venv/,
# shared with tests/mcp), if that is not done yet. Idempotent and quiet.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv"
req="$root/tests/desktop/requirements.txt"
stamp="$venv/.desktop-requirements.txt"
if [ ! -x "$venv/bin/python" ]; then
  echo "venv: creating $venv" >&2
  python3 -m venv "$venv"
fi
if [ -f "$stamp" ] && cmp -s "$req" "$stamp" && "$venv/bin/python" -c "import dbus_next, Xlib" 2>/dev/null; then
  exit 0
fi
echo "venv: installing $(grep -v '^#' "$req" | tr '\n' ' ')" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
cp "$req" "$stamp"
