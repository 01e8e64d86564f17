#!/usr/bin/env bash
# `npm test`: everything, on a fresh machine too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
echo "== typecheck"
npx tsc --noEmit -p tsconfig.json
echo "== unit tests"
npx vitest run
echo "== swarm tests (headless Chromium, loopback-only namespace)"
bash scripts/e2e.sh
if [[ -f firmware/scripts/test.sh ]]; then
  echo "== firmware"
  bash firmware/scripts/test.sh
fi
