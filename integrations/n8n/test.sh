#!/usr/bin/env bash
# The n8n package's checks from a clean checkout: install the locked dev tools, build, lint, test.
# Exits non-zero on the first failure. Needs Node >= 20 and the npm registry; installs only into
# ./node_modules (install scripts are off, see .npmrc).
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n== n8n: %s\n' "$*"; }
quiet() { # run a chatty command, show its output only when it fails
  local log
  log=$(mktemp)
  if "$@" >"$log" 2>&1; then rm -f "$log"; else
    local rc=$?
    cat "$log"
    rm -f "$log"
    return "$rc"
  fi
}

command -v node >/dev/null || { echo "n8n: node is not installed" >&2; exit 1; }

step "npm ci"
quiet npm ci --no-audit --no-fund --ignore-scripts

step "build (catalogue copy + tsc + static files)"
quiet npm run build

step "lint (n8n-node lint: @n8n/eslint-plugin-community-nodes, strict/cloud rules)"
npm run --silent lint

step "test"
npm test --silent
