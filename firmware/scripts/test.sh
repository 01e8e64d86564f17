#!/usr/bin/env bash
# Fedra firmware test suite: host unit tests, WASM spec tests, ASan fuzzing,
# board build (size budget), host-node protocol test, QEMU board test.
# Usage: bash firmware/scripts/test.sh   (from anywhere)
# Env: WASM_SPEC_DIR (default: ../shared/wasm-spec or /work/shared/wasm-spec),
#      FUZZ_ITERS (default 200000), SKIP_QEMU=1.
set -euo pipefail
FW="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$FW"
B="$FW/build"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && { kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; } || true; done; }
trap cleanup EXIT INT TERM
step() { printf '\n== %s\n' "$*"; }

# ---- tools: install what is missing (Debian) ----
need=()
command -v gcc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
command -v arm-none-eabi-gcc >/dev/null || need+=(gcc-arm-none-eabi)
[ -e /usr/lib/arm-none-eabi/newlib/thumb/v7e-m+fp/hard/libc_nano.a ] || need+=(libnewlib-arm-none-eabi)
command -v qemu-system-arm >/dev/null || need+=(qemu-system-arm)
command -v wast2json >/dev/null || need+=(wabt)
command -v node >/dev/null || need+=(nodejs)
if [ ${#need[@]} -gt 0 ]; then
  step "installing ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}"
fi

SPEC="${WASM_SPEC_DIR:-}"
for d in "$FW/../shared/wasm-spec" /work/shared/wasm-spec; do
  [ -z "$SPEC" ] && [ -d "$d" ] && SPEC="$d"
done
[ -d "$SPEC" ] || { echo "wasm spec tests not found: set WASM_SPEC_DIR"; exit 1; }

step "host build"
make -s -j2 host
step "board build"
make -s board

step "unit tests (ASan/UBSan)"
"$B/unit"

step "spec tests ($SPEC)"
mkdir -p "$B/spec"
fail=0
while read -r name; do
  [ -z "$name" ] || [ "${name#\#}" != "$name" ] && continue
  wast2json "$SPEC/$name.wast" -o "$B/spec/$name.json" >/dev/null
  "$B/spectest" "$B/spec/$name.json" || fail=1
done < spec-supported.txt
for f in "$SPEC"/*.wast; do
  n="$(basename "$f" .wast)"
  grep -qx "$n" spec-supported.txt && continue
  wast2json "$f" -o "$B/spec/$n.json" >/dev/null && { "$B/spectest" "$B/spec/$n.json" || true; echo "  ($n: not claimed)"; }
done
[ "$fail" = 0 ] || { echo "spec tests FAILED"; exit 1; }
# the board's feature set (FX_MVP_ONLY=1): post-MVP modules are unsupported, never failures
jsons=(); while read -r name; do [ -n "$name" ] && [ "${name#\#}" = "$name" ] && jsons+=("$B/spec/$name.json"); done < spec-supported.txt
"$B/spectest-mvp" "${jsons[@]}" > "$B/spec-mvp.txt" || { cat "$B/spec-mvp.txt"; echo "MVP-only spec tests FAILED"; exit 1; }
awk '{p+=$3; f+=$5; u+=$7; s+=$9} END {printf "MVP-only build (board feature set), all files: passed %d failed %d unsupported %d skipped %d\n", p, f, u, s}' "$B/spec-mvp.txt"

if [ "${SKIP_QEMU:-0}" != 1 ]; then
  step "spec tests on the board's CPU (Cortex-M4F build, QEMU mps2-an386 + semihosting)"
  make -s arm-spec
  args="arg=spectest"; for j in "${jsons[@]}"; do args="$args,arg=$j"; done
  timeout 300 qemu-system-arm -M mps2-an386 -nographic -monitor none \
    -semihosting-config "enable=on,target=native,$args" -kernel "$B/spectest-arm.elf" > "$B/spec-arm.txt" 2>&1 || true
  grep -q "^exit status 0" "$B/spec-arm.txt" || { cat "$B/spec-arm.txt"; echo "Cortex-M4 spec tests FAILED"; exit 1; }
  awk '/passed/ {p+=$3; f+=$5; u+=$7; s+=$9} END {printf "Cortex-M4 build, all files: passed %d failed %d unsupported %d skipped %d (memory capped at 64 pages)\n", p, f, u, s}' "$B/spec-arm.txt"
fi

step "wasm test module"
wat2wasm test/task.wat -o "$B/task.wasm"

step "superinstructions change neither results nor instruction counts"
for m in gray crc32 coremark; do
  wat2wasm "bench/$m.wat" -o "$B/$m.wasm"
  a="$("$B/fxrun" "$B/$m.wasm" bench 1 | cut -d' ' -f1-2)"; b="$("$B/fxrun-nofuse" "$B/$m.wasm" bench 1 | cut -d' ' -f1-2)"
  [ "$a" = "$b" ] || { echo "fusion changed $m: '$a' vs '$b'"; exit 1; }
  echo "  $m: $a"
done

step "fuzz (ASan/UBSan, fixed seed)"
seeds=("$B/task.wasm")
for s in i32.0 call_indirect.0 memory_grow.0 f64.0 loop.0 block.0 br_if.0 conversions.0 global.0; do
  [ -f "$B/spec/$s.wasm" ] && seeds+=("$B/spec/$s.wasm")
done
"$B/fuzz" "${FUZZ_ITERS:-200000}" "${seeds[@]}"

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

step "protocol test against the host node (ASan)"
make -s build/fxnode-asan
PORT="$(free_port)"
"$B/fxnode-asan" "$PORT" >"$B/fxnode.log" 2>&1 & NPID=$!; PIDS+=($NPID)
timeout 120 node test/board-test.mjs "$PORT" "$B/task.wasm" --filters "$FW/../public/filters"
# the node exits when the client hangs up; ASan/UBSan findings make it fail
if ! wait "$NPID"; then cat "$B/fxnode.log"; echo "fxnode (ASan) reported an error"; exit 1; fi

if [ "${SKIP_QEMU:-0}" != 1 ]; then
  step "QEMU board test (netduinoplus2, -icount shift=0)"
  PORT="$(free_port)"
  qemu-system-arm -M netduinoplus2 -nographic -monitor none -kernel "$B/firmware.elf" \
    -serial "tcp:127.0.0.1:$PORT,server=on,wait=on,nodelay=on" -icount shift=0 >"$B/qemu.log" 2>&1 &
  QPID=$!; PIDS+=($QPID)
  timeout 150 node test/board-test.mjs "$PORT" "$B/task.wasm" --board --filters "$FW/../public/filters"
  kill "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null || true
fi
step "all firmware tests passed"
