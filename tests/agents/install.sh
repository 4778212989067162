#!/usr/bin/env bash
# Installs the agent CLIs tests/agents drives, at the versions package-lock.json
# pins, into tests/agents/node_modules; again whenever the lock changes.
set -euo pipefail
cd "$(dirname "$0")"
if ! cmp -s package-lock.json node_modules/.agentwatch-lock 2>/dev/null; then
  echo "agents: installing the pinned agent CLIs (Claude Code, Cline, Codex, Copilot CLI, Gemini CLI, OpenCode, pi, Qwen Code) from npm"
  # Not `npm ci`: Qwen Code's lock names optional clipboard builds for other
  # platforms that the registry does not have (404), which `npm ci` counts as
  # an out-of-sync lock. `npm install --no-save` installs the same pinned tree
  # from the lock and leaves the lock untouched.
  rm -rf node_modules
  npm install --no-save --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.agentwatch-lock
fi
for cli in claude cline codex copilot gemini opencode pi qwen; do
  node_modules/.bin/$cli --version >/dev/null || { echo "agents: $cli does not start" >&2; exit 1; }
done
