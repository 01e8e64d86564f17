#!/usr/bin/env bash
# `npm start [-- --host 0.0.0.0 --port 8080 --name laptop.local]`: installs
# what is missing, builds the web app and starts the relay, which also serves
# the app (HTTPS + WSS on a network address; flags: `npm start -- --help`,
# docs/deploy.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx vite build --logLevel warn
exec node --import ./scripts/node-preload.mjs --experimental-websocket relay/main.ts "$@"
