#!/usr/bin/env bash
# Runs the Home Assistant integration's tests in their own Python 3.13 venv (Home Assistant needs 3.13;
# the project runs on 3.11). Creates the venv when missing; exits non-zero when a test fails.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="$HERE/.venv"
HARNESS="pytest-homeassistant-custom-component==0.13.236"  # pins homeassistant 2025.4.4 (Python >= 3.13.0)
MYPY="mypy==1.15.0"  # strict-typing (platinum): the component and its vendored client

find_python() {
    if [[ -n "${POSTDODO_HA_PYTHON:-}" ]]; then echo "$POSTDODO_HA_PYTHON"; return; fi
    if command -v pyenv >/dev/null 2>&1 && [[ -x "$(pyenv root)/versions/3.13.0/bin/python" ]]; then
        echo "$(pyenv root)/versions/3.13.0/bin/python"; return
    fi
    for candidate in python3.13 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))'; then
            command -v "$candidate"; return
        fi
    done
    echo "error: Python 3.13 not found (set POSTDODO_HA_PYTHON)" >&2
    exit 2
}

if [[ ! -x "$VENV/bin/python" ]]; then
    "$(find_python)" -m venv "$VENV"
fi
# the harness pulls Home Assistant itself (a few minutes the first time); later runs only check
if ! "$VENV/bin/python" -c 'import pytest_homeassistant_custom_component, mypy' 2>/dev/null ||
   [[ "$("$VENV/bin/pip" show pytest-homeassistant-custom-component 2>/dev/null | sed -n 's/^Version: //p')" != "${HARNESS##*==}" ]]; then
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "$HARNESS" "$MYPY"
fi
# The component must run on what stock Home Assistant has: its vendored client, never the library itself
# (older venvs of this script had it installed).
if "$VENV/bin/pip" show postdodo-connect >/dev/null 2>&1; then
    "$VENV/bin/pip" uninstall --quiet --yes postdodo-connect
fi
# the end-to-end test runs `postdodo serve` from the project's venv
export POSTDODO_PYTHON="${POSTDODO_PYTHON:-$REPO/.venv/bin/python}"

cd "$HERE"
echo "mypy --strict custom_components/postdodo"
"$VENV/bin/python" -m mypy --strict --python-version 3.13 --explicit-package-bases custom_components/postdodo

set +e
"$VENV/bin/python" -m pytest -q -p no:sugar --cov=custom_components/postdodo --cov-report=term --cov-fail-under=95 \
    "$@" 2>&1 | tee "$VENV/last-run.txt" | grep -E '^(FAILED|ERROR|TOTAL)|[0-9]+ (passed|failed|error)|Required test coverage'
status=${PIPESTATUS[0]}
set -e
if [[ $status -ne 0 ]]; then
    tail -n 150 "$VENV/last-run.txt" >&2
    echo "Home Assistant tests failed (exit $status); full output in $VENV/last-run.txt" >&2
fi
exit "$status"
