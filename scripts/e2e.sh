#!/usr/bin/env bash
# Swarm tests in real headless Chromium. They run inside a fresh network
# namespace that holds only loopback, so WebRTC can use nothing but
# 127.0.0.1 and no packet can leave the machine (see docs/decisions.md).
set -euo pipefail
cd "$(dirname "$0")/.."
# build every time: a stale dist/ would test old code (it takes seconds)
if [[ "${FEDRA_IN_NETNS:-}" != "1" ]]; then
  node scripts/build-filters.mjs
  # FEDRA_DIST: build and serve elsewhere (a benchmark may be serving dist/)
  npx vite build --logLevel warn --outDir "${FEDRA_DIST:-dist}"
  # the board tests run the real firmware in QEMU
  make -s -C firmware board >/dev/null
fi
if [[ "${FEDRA_IN_NETNS:-}" == "1" ]]; then
  exec npx playwright test "$@"
fi
exec unshare --net bash -c 'ip link set lo up && FEDRA_IN_NETNS=1 exec npx playwright test "$@"' bash "$@"
