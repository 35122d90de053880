#!/usr/bin/env bash
# Make the virtualenvs that hold Zoho's official Python SDKs, used as real clients of emailshare
# by tests/conformance/test_python_sdks.py:
#   .venvs/sdk7  zohocrmsdk7-0==6.0.0  (Zoho CRM API v7)
#   .venvs/sdk8  zohocrmsdk8-0==7.0.0  (Zoho CRM API v8)
# Both distributions install the same top-level package (zohocrmsdk), hence one venv each.
#
# Idempotent: a venv whose stamp matches (same pin, same interpreter) and whose SDK imports is
# left alone, so a second run takes well under a second. A missing, half-made or stale venv is
# rebuilt from scratch. Needs only python3 (PYTHON=/path/to/python overrides) and PyPI.
#
# Usage: scripts/setup-python-sdks.sh [--force]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENVS="$ROOT/.venvs"
PYTHON="${PYTHON:-python3}"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "setup-python-sdks: '$PYTHON' not found; install Python 3 or set PYTHON=" >&2
    exit 1
fi
# One interpreter start: "X.Y.Z /path/to/python" (the stamp records both).
PYID="$("$PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3], sys.executable)')"

log() { echo "setup-python-sdks: $*" >&2; }

make_venv() {
    local dir="$1"
    if "$PYTHON" -m venv "$dir" 2>/dev/null; then
        return 0
    fi
    # Debian/Ubuntu without python3-venv: no ensurepip. Make a venv without pip and drive the
    # host's pip into it (pip >= 22.3 understands --python).
    rm -rf "$dir"
    log "python3 -m venv failed (no ensurepip?); trying a venv without pip"
    "$PYTHON" -m venv --without-pip "$dir"
    if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
        log "no pip for $PYTHON either; install python3-venv (apt-get install python3-venv) or pip"
        return 1
    fi
}

pip_into() {
    local dir="$1"; shift
    local args=(install --disable-pip-version-check --no-input --quiet "$@")
    if [[ -x "$dir/bin/pip" ]] || "$dir/bin/python" -m pip --version >/dev/null 2>&1; then
        "$dir/bin/python" -m pip "${args[@]}"
    else
        "$PYTHON" -m pip --python "$dir/bin/python" "${args[@]}"
    fi
}

# name  requirement  distribution-name-for-metadata
setup_one() {
    local name="$1" req="$2" dist="$3"
    local dir="$VENVS/$name"
    local stamp="$dir/.emailshare-sdk-stamp"
    local want="$req python=$PYID"

    if [[ $FORCE -eq 0 && -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$dir/bin/python" ]] \
        && "$dir/bin/python" -c "import importlib.util as u, sys; sys.exit(u.find_spec('zohocrmsdk') is None)" \
            >/dev/null 2>&1; then
        log "$name: up to date ($req)"
        return 0
    fi

    log "$name: creating $dir with $req"
    rm -rf "$dir"
    mkdir -p "$VENVS"
    make_venv "$dir"
    pip_into "$dir" "$req"
    # Check that the right SDK (and only that one) is what the venv imports.
    "$dir/bin/python" - "$dist" "${req##*==}" <<'PY'
import sys
from importlib import metadata
dist, version = sys.argv[1], sys.argv[2]
got = metadata.version(dist)
if got != version:
    sys.exit(f"{dist}: installed {got}, wanted {version}")
import zohocrmsdk.src.com.zoho.crm.api.email_sharing_details  # noqa: F401
PY
    echo "$want" > "$stamp"
    log "$name: ready"
}

setup_one sdk7 "zohocrmsdk7-0==6.0.0" "zohocrmsdk7-0"
setup_one sdk8 "zohocrmsdk8-0==7.0.0" "zohocrmsdk8_0"
