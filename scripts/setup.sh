#!/usr/bin/env bash
# Installs what Fedra needs on a fresh Debian machine, and nothing twice:
# npm packages from the lockfile, and (for tests) Debian's chromium, plus the
# firmware toolchain and QEMU. Never downloads a browser of its own.
#   scripts/setup.sh            npm packages + filters (enough to start)
#   scripts/setup.sh --test     also chromium, qemu, arm gcc, wabt, ffmpeg and
#                               opencv-doc (the video test clips, scripts/test-clips.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

want_apt=()
if [[ "${1:-}" == "--test" ]]; then
  command -v chromium >/dev/null || want_apt+=(chromium)
  command -v qemu-system-arm >/dev/null || want_apt+=(qemu-system-arm)
  command -v arm-none-eabi-gcc >/dev/null || want_apt+=(gcc-arm-none-eabi)
  [[ -d /usr/lib/arm-none-eabi/newlib ]] || want_apt+=(libnewlib-arm-none-eabi)
  command -v wat2wasm >/dev/null || want_apt+=(wabt)
  command -v ip >/dev/null || want_apt+=(iproute2)   # ip link set lo up, in the test namespace
  command -v ffmpeg >/dev/null || want_apt+=(ffmpeg)  # test clips, and ffprobe to check the video tests' output
  [[ -e /usr/share/doc/opencv-doc/examples/data/vtest.avi || -e /usr/share/doc/opencv-doc/examples/data/vtest.avi.gz ]] || want_apt+=(opencv-doc)  # vtest.avi: real footage
fi
if (( ${#want_apt[@]} > 0 )); then
  echo "setup: installing Debian packages: ${want_apt[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${want_apt[@]}"
fi

# npm ci only when the lockfile changed since the last install
if [[ ! -f node_modules/.package-lock.json ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm packages"
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi

node scripts/build-filters.mjs

# short clips cut from real footage for the video tests (made once, in .cache/clips)
if [[ "${1:-}" == "--test" ]]; then
  bash scripts/test-clips.sh
fi
