// board-bench.mjs — run the benchmark modules on the board (QEMU) through the
// serial protocol and print guest instructions (TIM2 under -icount shift=0)
// per wasm instruction. Usage: node board-bench.mjs PORT gray.wasm crc32.wasm coremark.wasm
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { McuClient, MSG, W } from '../test/fedra-mcu.mjs';

const [port, ...files] = process.argv.slice(2);
const params = { gray: 4096, crc32: 16384, coremark: 4 };
const sock = await new Promise((res, rej) => {
  let n = 0;
  const go = () => { const s = net.connect({ host: '127.0.0.1', port: Number(port) }, () => res(s)); s.once('error', (e) => (++n > 100 ? rej(e) : setTimeout(go, 100))); };
  go();
});
sock.setNoDelay(true);
const c = new McuClient(sock);
await c.hello();
let bad = 0;
for (const f of files) {
  const name = basename(f, '.wasm');
  const key = await c.load(new Uint8Array(readFileSync(f)));
  const t = await c.run(key, 'run', new Uint8Array(0), new W().u32(params[name] ?? 0).done());
  const r = await t.done;
  if (r.type !== MSG.RESULT) { console.log(`${name}: ERROR ${r.text}`); bad++; continue; }
  const ins = Number(r.instructions);
  console.log(`board ${name.padEnd(9)} param ${String(params[name]).padStart(6)}  wasm ops ${String(ins).padStart(9)}  ` +
    `guest instr ${String(r.cycles).padStart(10)}  guest/op ${(r.cycles / ins).toFixed(1)}`);
}
sock.destroy();
process.exit(bad ? 1 : 0);
