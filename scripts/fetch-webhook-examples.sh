#!/usr/bin/env bash
# Fetch the real GitHub webhook payload examples (@octokit/webhooks-examples, pinned) into
# .cache/ (git-ignored) for tests/unit/test_discussions_webhooks.py. Idempotent and offline once
# fetched: the tarball comes from the npm registry through npm itself.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=7.6.1
DEST=.cache/webhooks-examples-$VERSION
if [ -f "$DEST/package/api.github.com/index.json" ]; then
    exit 0
fi
mkdir -p "$DEST"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "@octokit/webhooks-examples@$VERSION" >/dev/null)
tar -xzf "$TMP"/octokit-webhooks-examples-"$VERSION".tgz -C "$DEST"
echo "webhook examples in $DEST"
