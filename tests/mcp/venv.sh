#!/usr/bin/env bash
# Creates the repository's Python venv (.venv/, git-ignored) and installs the
# packages of tests/mcp/requirements.txt into it, if that is not done yet.
# Idempotent and quiet: a second run checks and installs nothing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv"
req="$root/tests/mcp/requirements.txt"
# --mcp2: the current SDK generation (protocol 2026-07-28) in a venv of its own.
if [ "${1:-}" = "--mcp2" ]; then
  venv="$root/.venv-mcp2"
  req="$root/tests/mcp/requirements-2.txt"
fi
stamp="$venv/.requirements.txt"
# The main venv also decodes OTLP (tests/export/receiver.py).
[ "$venv" = "$root/.venv" ] && otel=", opentelemetry.proto.collector.metrics.v1.metrics_service_pb2"

if [ ! -x "$venv/bin/python" ]; then
  echo "venv: creating $venv" >&2
  python3 -m venv "$venv"
fi
# The stamp is a copy of the requirements last installed: install again only
# when they changed (or a package went missing).
if [ -f "$stamp" ] && cmp -s "$req" "$stamp" && "$venv/bin/python" -c "import mcp, httpx, anyio${otel:-}" 2>/dev/null; then
  exit 0
fi
echo "venv: installing $(grep -v '^#' "$req" | tr '\n' ' ')" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
cp "$req" "$stamp"
