/**
 * Plain TypeScript twins of the WASM filters. Tests compare the modules'
 * output with these byte for byte; they define what each filter computes.
 */
import { compareBytes, decodeRecords, encodeRecords, partitionOf, readU32le, sortRecords, u32le, type KeyValue } from './records.js'

export interface Image {
  data: Uint8Array
  width: number
  height: number
}

function mapPixels (img: Image, f: (out: Uint8Array, p: number) => void): Uint8Array {
  const out = img.data.slice()
  for (let p = 0; p < out.length; p += 4) f(out, p)
  return out
}

const luma = (d: Uint8Array, p: number): number => (77 * d[p] + 150 * d[p + 1] + 29 * d[p + 2] + 128) >> 8

export function grayscale (img: Image): Uint8Array {
  return mapPixels(img, (d, p) => { d[p] = d[p + 1] = d[p + 2] = luma(d, p) })
}

export function invert (img: Image): Uint8Array {
  return mapPixels(img, (d, p) => { d[p] = 255 - d[p]; d[p + 1] = 255 - d[p + 1]; d[p + 2] = 255 - d[p + 2] })
}

export function pixelate (img: Image, block: number): Uint8Array {
  const { width: w, height: h } = img
  const out = img.data.slice()
  for (let by = 0; by < h; by += block) {
    for (let bx = 0; bx < w; bx += block) {
      const y1 = Math.min(by + block, h)
      const x1 = Math.min(bx + block, w)
      const sum = [0, 0, 0]
      for (let y = by; y < y1; y++) for (let x = bx; x < x1; x++) for (let c = 0; c < 3; c++) sum[c] += out[(y * w + x) * 4 + c]
      const count = (y1 - by) * (x1 - bx)
      const mean = sum.map(s => Math.floor((s + (count >> 1)) / count))
      for (let y = by; y < y1; y++) for (let x = bx; x < x1; x++) for (let c = 0; c < 3; c++) out[(y * w + x) * 4 + c] = mean[c]
    }
  }
  return out
}

const clamp = (v: number, hi: number): number => v < 0 ? 0 : v > hi ? hi : v

export function blur (img: Image): Uint8Array {
  const { data, width: w, height: h } = img
  const out = data.slice()
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += data[(clamp(y + dy, h - 1) * w + clamp(x + dx, w - 1)) * 4 + c]
        out[(y * w + x) * 4 + c] = Math.floor((s + 4) / 9)
      }
    }
  }
  return out
}

export function sobel (img: Image): Uint8Array {
  const { data, width: w, height: h } = img
  const lum = new Uint8Array(w * h)
  for (let i = 0; i < w * h; i++) lum[i] = luma(data, i * 4)
  const at = (x: number, y: number): number => lum[clamp(y, h - 1) * w + clamp(x, w - 1)]
  const out = data.slice()
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const gx = at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x - 1, y) - at(x - 1, y + 1)
      const gy = at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x, y - 1) - at(x + 1, y - 1)
      const m = Math.min(Math.abs(gx) + Math.abs(gy), 255)
      const p = (y * w + x) * 4
      out[p] = out[p + 1] = out[p + 2] = m
    }
  }
  return out
}

/** Sepia matrix in 8.8 fixed point, each channel clamped to 255. */
export function sepia (img: Image): Uint8Array {
  return mapPixels(img, (d, p) => {
    const r = d[p]; const g = d[p + 1]; const b = d[p + 2]
    d[p] = Math.min((101 * r + 197 * g + 48 * b + 128) >> 8, 255)
    d[p + 1] = Math.min((89 * r + 176 * g + 43 * b + 128) >> 8, 255)
    d[p + 2] = Math.min((70 * r + 137 * g + 34 * b + 128) >> 8, 255)
  })
}

/**
 * Brightness 0..510 (added as brightness - 255) and contrast 0..200 (percent,
 * as k = (contrast·256 + 50) / 100 in 8.8); `>> 8` floors negatives.
 */
export function brightness (img: Image, bright: number, contrast: number): Uint8Array {
  const k = Math.floor((contrast * 256 + 50) / 100)
  const offset = bright - 127
  const adjust = (c: number): number => clamp(((((c - 128) * k + 128) >> 8) + offset), 255)
  return mapPixels(img, (d, p) => { d[p] = adjust(d[p]); d[p + 1] = adjust(d[p + 1]); d[p + 2] = adjust(d[p + 2]) })
}

/** floor(d² · 2^15 / size²) for d = |2i + 1 - size|: squared offset from the tile's centre, below 2^15. */
function offsetSquared (i: number, size: number): number {
  const d = BigInt(Math.abs(2 * i + 1 - size))
  return Number((d * d << 15n) / BigInt(size * size))
}

/**
 * Vignette on the tile given: factor f = 2^15 - floor(strength · (qx + qy) / 200)
 * in 1 .. 2^15, each channel (c · f + 2^14) >> 15.
 */
export function vignette (img: Image, strength: number): Uint8Array {
  const { width: w, height: h } = img
  const out = img.data.slice()
  for (let y = 0; y < h; y++) {
    const qy = offsetSquared(y, h)
    for (let x = 0; x < w; x++) {
      const f = 32768 - Math.floor(strength * (qy + offsetSquared(x, w)) / 200)
      const p = (y * w + x) * 4
      for (let c = 0; c < 3; c++) out[p + c] = (out[p + c] * f + 16384) >> 15
    }
  }
  return out
}

/** Box blur over the (2r+1)² window, edges clamped: (Σ + floor(n/2)) / n, floored. */
export function boxblur (img: Image, radius: number): Uint8Array {
  const { data, width: w, height: h } = img
  const n = (2 * radius + 1) ** 2
  // Sums are exact integers, so summing rows first gives the same total.
  const rows = new Uint32Array(w * h * 3)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0
        for (let dx = -radius; dx <= radius; dx++) s += data[(y * w + clamp(x + dx, w - 1)) * 4 + c]
        rows[(y * w + x) * 3 + c] = s
      }
    }
  }
  const out = data.slice()
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0
        for (let dy = -radius; dy <= radius; dy++) s += rows[(clamp(y + dy, h - 1) * w + x) * 3 + c]
        out[(y * w + x) * 4 + c] = Math.floor((s + (n >> 1)) / n)
      }
    }
  }
  return out
}

const isWordByte = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c >= 128

/** Word-count map: one record per distinct word, in order of first occurrence, valued with its count. */
export function wordCountMap (chunk: Uint8Array): Uint8Array {
  const counts = new Map<string, { key: Uint8Array, n: number }>()
  let i = 0
  while (i < chunk.length) {
    while (i < chunk.length && !isWordByte(chunk[i])) i++
    const start = i
    while (i < chunk.length && isWordByte(chunk[i])) i++
    if (i === start) break
    const key = chunk.slice(start, i).map(c => (c >= 65 && c <= 90) ? c | 32 : c)
    const id = Array.from(key, c => String.fromCharCode(c)).join('')
    const hit = counts.get(id)
    if (hit != null) hit.n++
    else counts.set(id, { key, n: 1 })
  }
  return encodeRecords([...counts.values()].map(({ key, n }) => ({ key, value: u32le(n) })))
}

/** Word-count reduce over one partition's records sorted by key: counts summed mod 2^32. */
export function wordCountReduce (sorted: Uint8Array): Uint8Array {
  const out: KeyValue[] = []
  for (const { key, value } of decodeRecords(sorted)) {
    const last = out[out.length - 1]
    if (last != null && compareBytes(last.key, key) === 0) last.value = u32le(readU32le(last.value) + readU32le(value))
    else out.push({ key, value: u32le(readU32le(value)) })
  }
  return encodeRecords(out)
}

/** The shuffle between map and reduce: group map outputs into sorted partitions. */
export function shuffle (mapOutputs: Uint8Array[], partitions: number): Uint8Array[] {
  const parts: KeyValue[][] = Array.from({ length: partitions }, () => [])
  for (const bytes of mapOutputs) for (const r of decodeRecords(bytes)) parts[partitionOf(r.key, partitions)].push(r)
  return parts.map(p => encodeRecords(sortRecords(p)))
}

/** The whole word count, for checking a distributed run: word → count. */
export function wordCount (chunks: Uint8Array[], partitions = 1): Map<string, number> {
  const result = new Map<string, number>()
  const decoder = new TextDecoder()
  for (const part of shuffle(chunks.map(wordCountMap), partitions).map(wordCountReduce)) {
    for (const { key, value } of decodeRecords(part)) result.set(decoder.decode(key), readU32le(value))
  }
  return result
}
