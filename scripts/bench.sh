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
echo "== scheduling: swarm efficiency, churn, backup tasks on cgroup-throttled browsers"
# throttled rooms can fail to form on a loaded machine: report it, go on
unshare --net bash -c 'ip link set lo up && exec node --import ./scripts/node-preload.mjs bench/scheduling.bench.ts' \
  || echo "scheduling benchmark stopped early (see above); the other benchmarks still run"
echo "== simulator calibration: the same scenario in cgroup-throttled browsers and in src/core/sim"
unshare --net bash -c 'ip link set lo up && exec node --import ./scripts/node-preload.mjs bench/calibration.bench.ts' \
  || echo "calibration benchmark stopped early (see above); the other benchmarks still run"
echo "== video: worker step vs ffmpeg.wasm and native ffmpeg; rooms of cgroup-throttled browsers; streaming; long and 720p clips"
# makes its clips first (scripts/test-clips.sh, FEDRA_BENCH_CLIPS=1); throttled rooms can fail to form on a loaded machine
unshare --net bash -c 'ip link set lo up && exec node --import ./scripts/node-preload.mjs bench/video.bench.ts' \
  || echo "video benchmark stopped early (see above); the other benchmarks still run"
echo "== firmware interpreter: host build vs wabt vs V8, callgrind, QEMU"
bash firmware/scripts/bench.sh
echo "== built-in filters on the board (QEMU), through the bridge's protocol code"
node --import ./scripts/node-preload.mjs bench/board.bench.ts
echo "== app: time to interactive on a throttled phone profile, JavaScript shipped at start-up"
unshare --net bash -c 'ip link set lo up && exec node --import ./scripts/node-preload.mjs bench/app.bench.ts' \
  || echo "app benchmark stopped early (see above); the other benchmarks still run"
