#!/usr/bin/env bash
# Install Zoho's official Node SDK (@zohocrm/nodejs-sdk-7.0, pinned in
# tests/conformance/node/package-lock.json) for tests/conformance/test_node_sdk.py.
#
# Idempotent and fast: runs `npm ci` only when node_modules is missing or was installed from a
# different package.json / package-lock.json (a stamp in node_modules records their hash).
# --force reinstalls anyway.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$here/tests/conformance/node"
stamp="$dir/node_modules/.emailshare-setup.sha256"
sdk_pkg="$dir/node_modules/@zohocrm/nodejs-sdk-7.0/package.json"

for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "setup-node-sdk: '$tool' not found; install Node.js 18 or newer (with npm)" >&2
        exit 1
    fi
done

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
    echo "setup-node-sdk: Node.js $(node --version) is too old; 18 or newer is needed" >&2
    exit 1
fi

wanted="$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1)"

if [ "${1:-}" != "--force" ] && [ -f "$sdk_pkg" ] && [ -f "$stamp" ] \
    && [ "$(cat "$stamp")" = "$wanted" ]; then
    echo "setup-node-sdk: up to date ($dir/node_modules)"
    exit 0
fi

echo "setup-node-sdk: npm ci in $dir"
# The lock pins every package by integrity hash; no dependency has an install script.
(cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund)
echo "$wanted" >"$stamp"
echo "setup-node-sdk: installed @zohocrm/nodejs-sdk-7.0 $(node -p "require('$sdk_pkg').version")"
