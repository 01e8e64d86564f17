/**
 * MapReduce records as the ABI carries them: `[u32le keyLen][key]
 * [u32le valueLen][value]` concatenated. Keys sort in byte order.
 */
import { InvalidMessageError } from '../core/errors.js'

export interface KeyValue {
  key: Uint8Array
  value: Uint8Array
}

export function encodeRecords (records: Iterable<KeyValue>): Uint8Array {
  const list = [...records]
  const size = list.reduce((n, r) => n + 8 + r.key.length + r.value.length, 0)
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let o = 0
  for (const { key, value } of list) {
    view.setUint32(o, key.length, true)
    out.set(key, o + 4)
    o += 4 + key.length
    view.setUint32(o, value.length, true)
    out.set(value, o + 4)
    o += 4 + value.length
  }
  return out
}

/** Decodes records; the returned keys and values are views into `bytes`. */
export function decodeRecords (bytes: Uint8Array): KeyValue[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: KeyValue[] = []
  let o = 0
  const field = (): Uint8Array => {
    if (o + 4 > bytes.length) throw new InvalidMessageError(`record length at byte ${o} runs past the end`)
    const len = view.getUint32(o, true)
    if (o + 4 + len > bytes.length) throw new InvalidMessageError(`record field at byte ${o} (${len} bytes) runs past the end`)
    const f = bytes.subarray(o + 4, o + 4 + len)
    o += 4 + len
    return f
  }
  while (o < bytes.length) out.push({ key: field(), value: field() })
  return out
}

export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i]
  }
  return a.length - b.length
}

/** Stable sort by key bytes: equal keys stay adjacent, in input order. */
export function sortRecords (records: KeyValue[]): KeyValue[] {
  return [...records].sort((x, y) => compareBytes(x.key, y.key))
}

/** FNV-1a of the key, so every peer sends a key to the same partition. */
export function partitionOf (key: Uint8Array, partitions: number): number {
  let h = 0x811c9dc5
  for (const b of key) h = Math.imul(h ^ b, 0x01000193) >>> 0
  return h % partitions
}

export function u32le (n: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n >>> 0, true)
  return b
}

export function readU32le (b: Uint8Array): number {
  if (b.length !== 4) throw new InvalidMessageError(`expected a 4-byte count, got ${b.length} bytes`)
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true)
}
