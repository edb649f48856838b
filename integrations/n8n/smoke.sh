#!/usr/bin/env bash
# Smoke test against a REAL n8n (2.8.4, the newest that runs on Node 20): packs this node package, installs it
# the way n8n installs a community package, imports a credential and workflows with n8n's CLI, runs them
# against a real `postdodo serve`, activates the PostDodo Trigger and checks everything on the API's side.
# n8n itself is installed once with `npm ci` from smoke/package-lock.json into a cache directory outside the
# package: $POSTDODO_N8N_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/postdodo-n8n-smoke/<lockfile hash>.
# Needs Node >= 20.19, the npm registry (first run only), the project's .venv (postdodo), and PostgreSQL
# (POSTDODO_TEST_DATABASE_URL's server, else postgres@127.0.0.1:5432) for n8n's own throwaway database.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

if [ -n "${POSTDODO_SKIP_N8N_SMOKE:-}" ]; then echo "n8n smoke: skipped (POSTDODO_SKIP_N8N_SMOKE)"; exit 0; fi
command -v node >/dev/null || { echo "n8n smoke: node is not installed" >&2; exit 1; }
postdodo="${POSTDODO_BIN:-$root/.venv/bin/postdodo}"
[ -x "$postdodo" ] || { echo "n8n smoke: $postdodo not found (make the project's .venv first)" >&2; exit 1; }

started=$(date +%s)
lock_hash=$(cat smoke/package.json smoke/package-lock.json | sha256sum | cut -c1-16)
cache="${POSTDODO_N8N_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/postdodo-n8n-smoke/$lock_hash}"
n8n_bin="$cache/node_modules/.bin/n8n"

if [ ! -x "$n8n_bin" ] || [ ! -f "$cache/.installed" ]; then
  echo "== n8n smoke: installing n8n from smoke/package-lock.json into $cache"
  rm -rf "$cache"
  mkdir -p "$cache"
  cp smoke/package.json smoke/package-lock.json "$cache/"
  # No install scripts: n8n runs on PostgreSQL here, so sqlite3's native build (minutes of C compiling,
  # or a download from outside the registry) is not needed, nor anything else's. Bounded, and retried
  # once (a registry hiccup on a cold cache should not fail the suite).
  for attempt in 1 2; do
    if (cd "$cache" && timeout "${POSTDODO_N8N_INSTALL_TIMEOUT:-1500}" npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >"$cache/npm-ci.log" 2>&1); then
      touch "$cache/.installed"
      break
    fi
    echo "n8n smoke: npm ci failed (attempt $attempt); last lines:" >&2
    tail -n 20 "$cache/npm-ci.log" >&2
    [ "$attempt" = 2 ] && exit 1
  done
fi
installed=$(date +%s)

if [ ! -d node_modules ]; then
  (npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi
npm run --silent build >"$cache/build.log" 2>&1 || { cat "$cache/build.log" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/postdodo-n8n-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -n 1)"
packed=$(date +%s)

printf '== n8n smoke: install %ss, build+pack %ss\n' "$((installed - started))" "$((packed - installed))"
node smoke/smoke.mjs --n8n "$n8n_bin" --modules "$cache/node_modules" --postdodo "$postdodo" --tarball "$tarball" --work "$work"
