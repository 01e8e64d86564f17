// board-test.mjs — end-to-end test of the firmware over its serial protocol.
// Usage: node board-test.mjs PORT task.wasm [--board] [--filters DIR]
// (--board: expect TIM2 cycle counts, as under QEMU -icount shift=0;
//  --filters: also run the project's AssemblyScript filters from DIR)
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { McuClient, MSG, W, frame } from './fedra-mcu.mjs';
import { checkFilters } from './filters-check.mjs';

const [port, wasmPath, ...flags] = process.argv.slice(2);
const board = flags.includes('--board');
const filtersDir = flags.includes('--filters') ? flags[flags.indexOf('--filters') + 1] : null;
const wasm = new Uint8Array(readFileSync(wasmPath));
let failures = 0;
const check = (ok, what) => { console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); if (!ok) failures++; };
const u32 = (b, o = 0) => new DataView(b.buffer, b.byteOffset).getUint32(o, true);

function connect() {
  return new Promise((resolve, reject) => {
    let tries = 0;
    const attempt = () => {
      const s = net.connect({ host: '127.0.0.1', port: Number(port) }, () => { s.setNoDelay(true); resolve(s); });
      s.once('error', (e) => { if (++tries > 100) reject(e); else setTimeout(attempt, 100); });
    };
    attempt();
  });
}

// reference for "spin": acc = acc*31 + n, n counting down
function spinRef(n) { let acc = 1; for (; n; n--) acc = (Math.imul(acc, 31) + n) | 0; return acc >>> 0; }

const sock = await connect();
const c = new McuClient(sock, { log: process.env.DEBUG ? console.error : () => {} });
try {
  const caps = await c.hello();
  check(caps.type === MSG.CAPS && caps.abi === 1, `HELLO -> CAPS (${caps.chip}, ${caps.clockHz} Hz, ` +
    `flash ${caps.flash}, RAM ${caps.ram}, arena free ${caps.arenaFree}, max frame ${caps.maxFrame}, ` +
    `max module ${caps.maxModule}, tasks ${caps.maxTasks}/${caps.taskSlots} slots, flags 0x${caps.flags.toString(16)})`);

  const key = await c.load(wasm);
  check(await c.has(key), 'module loaded and cached (HAS_FUNCTION)');
  const key2 = await c.load(wasm);
  check(Buffer.compare(key, key2) === 0, 'second load skipped: cache hit');

  // two tasks at once: a long spin and a short reverse
  const N = board ? 300000 : 3000000;
  const spin = await c.run(key, 'spin', new Uint8Array(0), new W().u32(N).done());
  const input = new TextEncoder().encode('hello fedra');
  const rev = await c.run(key, 'run', input);
  // ping while the long task computes
  const t0 = Date.now();
  const pong = await c.request(MSG.PING, Uint8Array.from([1, 2, 3]));
  const pingMs = Date.now() - t0;
  const r2 = await rev.done;
  const r1 = await spin.done;
  check(pong.type === MSG.PONG && pong.data.join() === '1,2,3', `PING answered during a long task (${pingMs} ms)`);
  const expectRev = Uint8Array.from([...input].reverse());
  check(r2.type === MSG.RESULT && Buffer.compare(r2.output.subarray(0, input.length), expectRev) === 0 &&
    u32(r2.output, input.length) === input.reduce((a, b) => a + b, 0), `reverse task result (${r2.instructions} instr)`);
  check(r1.type === MSG.RESULT && u32(r1.output) === spinRef(N), `spin task result ${r1.output && u32(r1.output)} (${r1.instructions} instr, ${r1.cycles} cycles)`);
  check(r1.instructions > BigInt(N * 5), 'instruction count reported');
  const progress = c.inbox.filter((m) => m.type === MSG.PROGRESS && m.req === spin.req);
  check(progress.length > 0 && progress.every((m) => m.instructions <= r1.instructions),
    `PROGRESS reported during the long task (${progress.length} messages)`);
  if (board) check(r1.cycles > 0, `TIM2 guest instruction count reported (${r1.cycles})`);

  // errors: function error, trap, fuel limit, unknown function, cancel
  const fe = await (await c.run(key, 'fail')).done;
  check(fe.type === MSG.ERROR && fe.code === 14 && fe.text === '-7', `negative return -> ERROR FUNCTION_ERROR ${fe.text}`);
  const tr = await (await c.run(key, 'boom')).done;
  check(tr.type === MSG.ERROR && tr.code === 9 && tr.text === 'trap: unreachable', `trap -> ERROR ${tr.text}`);
  const fu = await (await c.run(key, 'spin', new Uint8Array(0), new W().u32(1e9).done(), 5000n)).done;
  check(fu.type === MSG.ERROR && fu.code === 10, `fuel limit -> ERROR ${fu.text}`);
  const nm = await (await c.run(new Uint8Array(32), 'run')).done;
  check(nm.type === MSG.ERROR && nm.code === 7, `unknown function -> ERROR ${nm.text}`);
  const long = await c.run(key, 'spin', new Uint8Array(0), new W().u32(1e9).done());
  const ca = await c.request(MSG.CANCEL, new W().u16(long.req).done());
  const cd = await long.done;
  check(ca.type === MSG.ACK && cd.type === MSG.ERROR && cd.code === 11, 'CANCEL stops a running task');

  // malformed input: garbage, bad CRC, oversized frame, unknown type, bad version
  c.sendRaw(Uint8Array.from([0x05, 0x11, 0x22, 0x00]));
  const e1 = await c.wait((m) => m.type === MSG.ERROR && m.req === 0);
  check(e1.code === 1, `garbage frame -> ERROR ${e1.text}`);
  const bad = frame(new W().u8(1).u8(MSG.PING).u16(77).done());
  bad[2] ^= 0x40;
  c.sendRaw(bad);
  const e2 = await c.wait((m) => m.type === MSG.ERROR && m.req === 0);
  check(e2.code === 1, `bad CRC -> ERROR ${e2.text}`);
  c.sendRaw(new Uint8Array(3000).fill(7)); c.sendRaw(Uint8Array.from([0]));
  const e3 = await c.wait((m) => m.type === MSG.ERROR && m.req === 0);
  check(e3.code === 2, `oversized frame -> ERROR ${e3.text}`);
  const e4 = await c.request(0x42);
  check(e4.type === MSG.ERROR && e4.code === 4, `unknown type -> ERROR ${e4.text}`);
  c.sendRaw(frame(new W().u8(9).u8(MSG.PING).u16(900).done()));
  const e5 = await c.wait((m) => m.req === 900);
  check(e5.type === MSG.ERROR && e5.code === 3, `bad version -> ERROR ${e5.text}`);
  const e6 = await c.request(MSG.RUN, Uint8Array.from([1, 2, 3]));
  check(e6.type === MSG.ERROR && e6.code === 5, `truncated RUN -> ERROR ${e6.text}`);
  const p2 = await c.request(MSG.PING);
  check(p2.type === MSG.PONG, 'still answering after malformed input');
  if (filtersDir) await checkFilters(c, filtersDir, check);
} catch (e) {
  console.log('FAIL', e.message);
  failures++;
}
sock.destroy();
console.log(failures ? `${failures} check(s) failed` : 'all board checks passed');
process.exit(failures ? 1 : 0);
