// filters-check.mjs — runs the project's built AssemblyScript filters
// (public/filters/*.wasm, docs/abi.md §5) on the board and compares each
// output byte for byte with a reference written from the ABI's definitions.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { MSG, W } from './fedra-mcu.mjs';

const luma = (d, p) => (77 * d[p] + 150 * d[p + 1] + 29 * d[p + 2] + 128) >> 8;
const clamp = (v, hi) => (v < 0 ? 0 : v > hi ? hi : v);
const map = (d, f) => { const o = d.slice(); for (let p = 0; p < o.length; p += 4) f(o, p); return o; };
const ref = {
  echo: (d) => d.slice(),
  grayscale: (d) => map(d, (o, p) => { o[p] = o[p + 1] = o[p + 2] = luma(o, p); }),
  invert: (d) => map(d, (o, p) => { for (let c = 0; c < 3; c++) o[p + c] = 255 - o[p + c]; }),
  pixelate: (d, w, h, block) => {
    const o = d.slice();
    for (let by = 0; by < h; by += block) for (let bx = 0; bx < w; bx += block) {
      const y1 = Math.min(by + block, h), x1 = Math.min(bx + block, w), s = [0, 0, 0];
      for (let y = by; y < y1; y++) for (let x = bx; x < x1; x++) for (let c = 0; c < 3; c++) s[c] += o[(y * w + x) * 4 + c];
      const n = (y1 - by) * (x1 - bx), mean = s.map((v) => Math.floor((v + (n >> 1)) / n));
      for (let y = by; y < y1; y++) for (let x = bx; x < x1; x++) for (let c = 0; c < 3; c++) o[(y * w + x) * 4 + c] = mean[c];
    }
    return o;
  },
  blur: (d, w, h) => {
    const o = d.slice();
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += d[(clamp(y + dy, h - 1) * w + clamp(x + dx, w - 1)) * 4 + c];
      o[(y * w + x) * 4 + c] = Math.floor((s + 4) / 9);
    }
    return o;
  },
  sobel: (d, w, h) => {
    const lum = new Uint8Array(w * h);
    for (let i = 0; i < w * h; i++) lum[i] = luma(d, i * 4);
    const at = (x, y) => lum[clamp(y, h - 1) * w + clamp(x, w - 1)];
    const o = d.slice();
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const gx = at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x - 1, y) - at(x - 1, y + 1);
      const gy = at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x, y - 1) - at(x + 1, y - 1);
      const p = (y * w + x) * 4;
      o[p] = o[p + 1] = o[p + 2] = Math.min(Math.abs(gx) + Math.abs(gy), 255);
    }
    return o;
  },
};

/** Returns the number of failed checks; `check(ok, what)` reports each. */
export async function checkFilters(c, dir, check) {
  if (!existsSync(join(dir, 'grayscale.wasm'))) { console.log(`skip filters: none built in ${dir}`); return; }
  const w = 12, h = 10;
  let seed = 7;
  const tile = Uint8Array.from({ length: w * h * 4 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
  for (const name of ['echo', 'grayscale', 'invert', 'pixelate', 'blur', 'sobel']) {
    const f = join(dir, `${name}.wasm`);
    if (!existsSync(f)) continue;
    const key = await c.load(new Uint8Array(readFileSync(f)));
    const params = new W().u32(w).u32(h);
    if (name === 'pixelate') params.u32(3);
    const r = await (await c.run(key, name, tile, params.done())).done;
    const want = ref[name](tile, w, h, 3);
    check(r.type === MSG.RESULT && Buffer.compare(Buffer.from(r.output), Buffer.from(want)) === 0,
      `AssemblyScript filter ${name} matches the reference (${r.type === MSG.RESULT ? `${r.instructions} instr` : r.text})`);
  }
  const f = join(dir, 'wordcount.wasm');
  if (existsSync(f)) {
    const key = await c.load(new Uint8Array(readFileSync(f)));
    const r = await (await c.run(key, 'map', new TextEncoder().encode('the cat and The dog, the END'))).done;
    // records: [u32 keyLen][key][u32 valueLen][value u32]
    const got = [];
    for (let o = 0; r.output && o < r.output.length;) {
      const dv = new DataView(r.output.buffer, r.output.byteOffset);
      const kl = dv.getUint32(o, true); const k = Buffer.from(r.output.subarray(o + 4, o + 4 + kl)).toString();
      o += 4 + kl; const vl = dv.getUint32(o, true); got.push(`${k}=${dv.getUint32(o + 4, true)}`); o += 4 + vl;
    }
    check(got.join(' ') === 'the=3 cat=1 and=1 dog=1 end=1', `AssemblyScript wordcount map: ${got.join(' ')}`);
  }
}
