#!/usr/bin/env bash
# Smoke test against a real Home Assistant (the venv test.sh builds: homeassistant 2025.4.4 on Python 3.13):
# hass with the component, onboarding and the config flow over REST, postdodo.create_post against a real
# `postdodo serve` from the project's venv, the webhook event on HA's bus. Prints the time of each phase.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
HA_PYTHON="$HERE/.venv/bin/python"
PROJECT_PYTHON="${POSTDODO_PYTHON:-$REPO/.venv/bin/python}"

if [[ ! -x "$HERE/.venv/bin/hass" ]]; then
    echo "error: no Home Assistant venv at $HERE/.venv (run $HERE/test.sh first)" >&2
    exit 2
fi
if [[ ! -x "$PROJECT_PYTHON" ]]; then
    echo "error: no project venv at $PROJECT_PYTHON (run ./scripts/test once, or set POSTDODO_PYTHON)" >&2
    exit 2
fi
echo "Home Assistant smoke test ($("$HERE/.venv/bin/hass" --version 2>/dev/null || echo '?'))"
exec "$HA_PYTHON" "$HERE/smoke.py" "$PROJECT_PYTHON"
