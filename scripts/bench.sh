#!/usr/bin/env bash
# `npm run bench`: every benchmark, each printing ratios measured side by
# side in one run. Swarm figures come from real tabs in a loopback-only
# network namespace, like the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
npx vite build --logLevel warn
echo "== swarm: Fedra protocols vs raw libp2p on the same connections"
unshare --net bash -c 'ip link set lo up && exec node --import ./scripts/node-preload.mjs bench/swarm.bench.ts'
if [[ -f firmware/scripts/bench.sh ]]; then
  echo "== firmware interpreter"
  bash firmware/scripts/bench.sh
fi
