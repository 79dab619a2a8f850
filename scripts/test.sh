#!/usr/bin/env bash
# The whole test command (make test == .ci/run): static checks, test services, the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

echo "== ruff"
"$BIN/ruff" check src tests bench
"$BIN/ruff" format --check src tests bench
echo "== mypy (strict)"
"$BIN/mypy"
echo "== layer contract"
"$BIN/lint-imports"

echo "== test inputs (headless Chromium, GitHub webhook examples)"
bash scripts/ensure-chromium.sh
bash scripts/fetch-webhook-examples.sh

echo "== test services (Neo4j, Kafka)"
trap 'bash scripts/services.sh down || true' EXIT
if ! bash scripts/services.sh up; then
    if [ "${CI:-}" = "true" ]; then
        echo "test services failed to start; in CI that is a failure" >&2
        exit 1
    fi
    echo "WARNING: test services are not running; tests that need them will be skipped" >&2
fi
if [ -f .services/env ]; then
    # shellcheck disable=SC1091
    source .services/env
fi

echo "== pytest"
"$BIN/pytest" -q -p no:cacheprovider "$@"
