#!/usr/bin/env bash
# Make sure headless Chromium exists for the GraphiQL browser test (tests/e2e/test_api_clients.py).
# Idempotent: does nothing when $CHROMIUM (default /usr/bin/chromium) is already there.
set -euo pipefail
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
test -x "$CHROMIUM"
