#!/usr/bin/env bash
# The Zapier app's checks: install the locked dependencies, validate the app against Zapier's
# schema, run the appTester tests. Exit status is non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
export NODE_ENV=test

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

echo "zapier: npm ci"
if ! npm ci --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
  cat "$log"
  echo "zapier: npm ci failed"
  exit 1
fi

node scripts/validate.js

status=0
npm test --silent >"$log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  cat "$log"
fi
summary="$(grep -E '^ℹ (tests|pass|fail|duration_ms) ' "$log" | sed 's/^ℹ //' | paste -sd ',' - | sed 's/,/, /g')"
if [ -z "$summary" ]; then
  [ "$status" -eq 0 ] && cat "$log"
  echo "zapier: the test runner printed no summary"
  exit 1
fi
echo "zapier (node:test): $summary"
exit "$status"
