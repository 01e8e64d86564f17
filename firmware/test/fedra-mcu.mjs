// fedra-mcu.mjs — a dependency-free client for the Fedra MCU serial protocol
// v1 (see ../docs/mcu-protocol.md), used by the firmware tests and the benchmark.
// Transport: any duplex byte stream (node:net socket to QEMU's UART here).
import { createHash } from 'node:crypto';

export const MSG = {
  HELLO: 0x01, PING: 0x02, HAS_FUNCTION: 0x03, LOAD_BEGIN: 0x04, LOAD_CHUNK: 0x05,
  LOAD_END: 0x06, RUN: 0x07, CANCEL: 0x08,
  ACK: 0x80, CAPS: 0x81, PONG: 0x82, HAS: 0x83, PROGRESS: 0x88, RESULT: 0x89, ERROR: 0xff,
};

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
export function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function cobsEncode(buf) {
  const out = [0];
  let codeAt = 0, code = 1;
  for (const b of buf) {
    if (b === 0) { out[codeAt] = code; codeAt = out.length; out.push(0); code = 1; }
    else {
      out.push(b);
      if (++code === 0xff) { out[codeAt] = code; codeAt = out.length; out.push(0); code = 1; }
    }
  }
  out[codeAt] = code;
  return Uint8Array.from(out);
}
export function cobsDecode(buf) {
  const out = [];
  let i = 0;
  while (i < buf.length) {
    const code = buf[i++];
    if (code === 0) throw new Error('cobs: zero byte');
    for (let k = 1; k < code; k++) {
      if (i >= buf.length) throw new Error('cobs: truncated');
      out.push(buf[i++]);
    }
    if (code !== 0xff && i < buf.length) out.push(0);
  }
  return Uint8Array.from(out);
}

export function frame(payload) {
  const body = new Uint8Array(payload.length + 4);
  body.set(payload);
  new DataView(body.buffer).setUint32(payload.length, crc32(payload), true);
  const enc = cobsEncode(body);
  const out = new Uint8Array(enc.length + 1);
  out.set(enc);
  return out;
}

export function sha256(buf) { return new Uint8Array(createHash('sha256').update(buf).digest()); }

/** Little-endian field writer. */
export class W {
  constructor() { this.b = []; }
  u8(v) { this.b.push(v & 0xff); return this; }
  u16(v) { return this.u8(v).u8(v >>> 8); }
  u32(v) { return this.u16(v & 0xffff).u16(v >>> 16); }
  u64(v) { v = BigInt(v); return this.u32(Number(v & 0xffffffffn)).u32(Number(v >> 32n)); }
  bytes(a) { for (const x of a) this.b.push(x); return this; }
  done() { return Uint8Array.from(this.b); }
}
class R {
  constructor(b) { this.b = b; this.o = 0; this.v = new DataView(b.buffer, b.byteOffset, b.byteLength); }
  u8() { return this.v.getUint8(this.o++); }
  u16() { const x = this.v.getUint16(this.o, true); this.o += 2; return x; }
  u32() { const x = this.v.getUint32(this.o, true); this.o += 4; return x; }
  u64() { const x = this.v.getBigUint64(this.o, true); this.o += 8; return x; }
  bytes(n) { const x = this.b.subarray(this.o, this.o + n); this.o += n; return x; }
}

/** Decodes one payload into a plain object. */
export function parseMessage(p) {
  const r = new R(p);
  const m = { version: r.u8(), type: r.u8(), req: r.u16() };
  switch (m.type) {
    case MSG.ACK: m.acked = r.u8(); break;
    case MSG.CAPS:
      Object.assign(m, { abi: r.u8(), clockHz: r.u32(), flash: r.u32(), ram: r.u32(), flags: r.u8(),
        arenaFree: r.u32(), maxFrame: r.u16(), maxModule: r.u32(), maxTasks: r.u8(),
        taskSlots: r.u8(), moduleSlots: r.u8(), maxPages: r.u16() });
      m.chip = new TextDecoder().decode(r.bytes(r.u8()));
      break;
    case MSG.PONG: m.data = r.bytes(p.length - 4); break;
    case MSG.HAS: m.present = r.u8() === 1; break;
    case MSG.PROGRESS: m.instructions = r.u64(); break;
    case MSG.RESULT: m.instructions = r.u64(); m.cycles = r.u32(); m.output = r.bytes(r.u16()); break;
    case MSG.ERROR: m.code = r.u8(); m.text = new TextDecoder().decode(r.bytes(r.u8())); break;
  }
  return m;
}

export class McuClient {
  constructor(stream, { log = () => {} } = {}) {
    this.s = stream; this.buf = []; this.waiters = []; this.inbox = []; this.nextReq = 1; this.log = log;
    stream.on('data', (d) => this.#onData(d));
  }
  #onData(d) {
    for (const b of d) {
      if (b !== 0) { this.buf.push(b); continue; }
      if (!this.buf.length) continue;
      const enc = Uint8Array.from(this.buf); this.buf = [];
      let body;
      try { body = cobsDecode(enc); } catch (e) { this.log('bad frame from board', e.message); continue; }
      const payload = body.subarray(0, body.length - 4);
      const crc = new DataView(body.buffer, body.byteOffset).getUint32(body.length - 4, true);
      if (crc !== crc32(payload)) { this.log('bad crc from board'); continue; }
      const m = parseMessage(payload);
      this.log('<-', m);
      const w = this.waiters.findIndex((x) => x.match(m));
      if (w >= 0) { const [x] = this.waiters.splice(w, 1); clearTimeout(x.timer); x.resolve(m); }
      else this.inbox.push(m);
    }
  }
  /** Wait for a message matching `match` (already received ones count). */
  wait(match, timeoutMs = 20000) {
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const x = { match, resolve };
      x.timer = setTimeout(() => { this.waiters.splice(this.waiters.indexOf(x), 1); reject(new Error('timeout waiting for reply')); }, timeoutMs);
      this.waiters.push(x);
    });
  }
  sendRaw(bytes) { this.s.write(bytes); }
  send(type, fields = new Uint8Array(0), req = this.nextReq++ & 0xffff) {
    const p = new W().u8(1).u8(type).u16(req).bytes(fields).done();
    this.log('->', type, req);
    this.s.write(frame(p));
    return req;
  }
  /** Send and wait for the final reply to this request id (not PROGRESS). */
  async request(type, fields, timeoutMs) {
    const req = this.send(type, fields);
    return this.wait((m) => m.req === req && m.type !== MSG.PROGRESS, timeoutMs);
  }
  /** HELLO, retried: bytes sent before the board enables its UART are lost. */
  async hello(tries = 30) {
    for (let i = 0; ; i++) {
      try { return await this.request(MSG.HELLO, undefined, 300); } catch (e) { if (i >= tries) throw e; }
    }
  }
  async has(key) { return (await this.request(MSG.HAS_FUNCTION, key)).present; }
  /** Upload a module (sent once: skipped when the board has it cached). */
  async load(wasm, chunk = 256) {
    const key = sha256(wasm);
    if (await this.has(key)) return key;
    const expectAck = (m) => { if (m.type !== MSG.ACK) throw new Error(`load: ${m.text ?? m.type}`); };
    expectAck(await this.request(MSG.LOAD_BEGIN, new W().bytes(key).u32(wasm.length).done()));
    for (let o = 0; o < wasm.length; o += chunk)
      expectAck(await this.request(MSG.LOAD_CHUNK, new W().u32(o).bytes(wasm.subarray(o, o + chunk)).done()));
    expectAck(await this.request(MSG.LOAD_END, key));
    return key;
  }
  /** Start a task; resolves to { req, done } where done resolves to RESULT or ERROR. */
  async run(key, entry, input = new Uint8Array(0), params = new Uint8Array(0), fuel = 0n) {
    const e = new TextEncoder().encode(entry);
    const f = new W().bytes(key).u64(fuel).u8(e.length).bytes(e).u16(input.length).bytes(input)
      .u16(params.length).bytes(params).done();
    const req = this.send(MSG.RUN, f);
    const ack = await this.wait((m) => m.req === req && (m.type === MSG.ACK || m.type === MSG.ERROR));
    if (ack.type === MSG.ERROR) return { req, done: Promise.resolve(ack) };
    return { req, done: this.wait((m) => m.req === req && (m.type === MSG.RESULT || m.type === MSG.ERROR), 120000) };
  }
}
