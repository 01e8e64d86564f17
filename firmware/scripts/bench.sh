#!/usr/bin/env bash
# Interpreter benchmark: host build vs wabt wasm-interp vs Node (V8), on the
# same import-free modules; callgrind x86 instructions per wasm op; guest
# instructions per wasm op on QEMU (TIM2 under -icount shift=0); footprint.
# Usage: bash firmware/scripts/bench.sh   (SKIP_CALLGRIND=1, SKIP_QEMU=1)
set -euo pipefail
FW="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$FW"; B="$FW/build"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && { kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; } || true; done; }
trap cleanup EXIT INT TERM
make -s host board >/dev/null
for m in gray crc32 coremark; do wat2wasm "bench/$m.wat" -o "$B/$m.wasm"; done
calc() { awk "BEGIN{print $1}"; }

echo
echo "wall clock, best of 3 (ms; lower is better). ratio = other / fedra"
printf '%-9s %11s %8s %12s %7s %10s %7s %10s %7s\n' module "wasm ops" fedra wasm-interp ratio "node-v8" ratio liftoff ratio
for m in gray crc32 coremark; do
  best() { local b=""; for i in 1 2 3; do v=$("$@"); if [ -z "$b" ] || awk "BEGIN{exit !($v < $b)}"; then b=$v; fi; done; echo "$b"; }
  ours=$(best sh -c "'$B/fxrun' '$B/$m.wasm' main | sed -n 's/.*ms=\([0-9.]*\).*/\1/p'")
  ops=$("$B/fxrun" "$B/$m.wasm" main | sed -n 's/.*ops=\([0-9]*\).*/\1/p')
  wi=$(best bash -c "TIMEFORMAT=%R; { time wasm-interp --run-all-exports '$B/$m.wasm' >/dev/null; } 2>&1 | awk '{print \$1*1000}'")
  nv=$(best sh -c "node bench/run-node.mjs '$B/$m.wasm' | sed -n 's/.*ms=\([0-9.]*\).*/\1/p'")
  nl=$(best sh -c "node --liftoff-only bench/run-node.mjs '$B/$m.wasm' | sed -n 's/.*ms=\([0-9.]*\).*/\1/p'")
  printf '%-9s %11s %8.1f %12.1f %7.2f %10.1f %7.3f %10.1f %7.3f\n' "$m" "$ops" "$ours" "$wi" \
    "$(calc "$wi / $ours")" "$nv" "$(calc "$nv / $ours")" "$nl" "$(calc "$nl / $ours")"
done
echo "(wasm-interp time includes its process start-up and parse, ~a few ms)"

if [ "${SKIP_CALLGRIND:-0}" != 1 ] && command -v valgrind >/dev/null; then
  echo
  echo "callgrind: x86 instructions (Ir) per wasm op in the kernel (difference of two run lengths)"
  ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$B/fxrun" "$B/$1.wasm" bench "$2" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; }
  opsn() { "$B/fxrun" "$B/$1.wasm" bench "$2" | sed -n 's/.*ops=\([0-9]*\).*/\1/p'; }
  for spec in "gray 1 3" "crc32 1 2" "coremark 20 60"; do
    set -- $spec
    i1=$(ir "$1" "$2"); i2=$(ir "$1" "$3"); o1=$(opsn "$1" "$2"); o2=$(opsn "$1" "$3")
    printf '%-9s %6.2f Ir/op  (%s wasm ops)\n' "$1" "$(calc "($i2 - $i1) / ($o2 - $o1)")" "$((o2 - o1))"
  done
  echo "(yardsticks from DESIGN.md: wasm3 4.4-5.1 Ir/op, wabt wasm-interp 131-141)"
fi

if [ "${SKIP_QEMU:-0}" != 1 ]; then
  echo
  echo "QEMU netduinoplus2 (-icount shift=0): guest instructions per wasm op (TIM2)"
  PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  qemu-system-arm -M netduinoplus2 -nographic -monitor none -kernel "$B/firmware.elf" \
    -serial "tcp:127.0.0.1:$PORT,server=on,wait=on,nodelay=on" -icount shift=0 >/dev/null 2>&1 &
  PIDS+=($!)
  timeout 300 node bench/board-bench.mjs "$PORT" "$B/gray.wasm" "$B/crc32.wasm" "$B/coremark.wasm"
fi

echo
echo "footprint (board build):"
arm-none-eabi-size "$B/firmware.elf" | tail -1 | awk '{printf "  flash %d bytes (text+data), RAM %d bytes static (data+bss) + 8 KiB stack\n", $1+$2, $2+$3}'
