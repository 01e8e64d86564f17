import { InvalidMessageError } from '../errors.js'

/** A MapReduce record: `[u32le keyLen][key][u32le valueLen][value]` (ABI v1). */
export interface KeyValue {
  key: Uint8Array
  value: Uint8Array
}

export function encodeRecords (records: readonly KeyValue[]): Uint8Array {
  const size = records.reduce((n, r) => n + 8 + r.key.byteLength + r.value.byteLength, 0)
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let off = 0
  for (const r of records) {
    view.setUint32(off, r.key.byteLength, true)
    out.set(r.key, off + 4)
    off += 4 + r.key.byteLength
    view.setUint32(off, r.value.byteLength, true)
    out.set(r.value, off + 4)
    off += 4 + r.value.byteLength
  }
  return out
}

/** Decodes records produced by a function: untrusted, so every length is checked. */
export function decodeRecords (bytes: Uint8Array): KeyValue[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: KeyValue[] = []
  let off = 0
  const take = (): Uint8Array => {
    if (off + 4 > bytes.byteLength) throw new InvalidMessageError('record stream ends inside a length')
    const len = view.getUint32(off, true)
    off += 4
    if (off + len > bytes.byteLength) throw new InvalidMessageError('record length runs past the end of the output')
    const b = bytes.subarray(off, off + len)
    off += len
    return b
  }
  while (off < bytes.byteLength) {
    const key = take()
    const value = take()
    out.push({ key, value })
  }
  return out
}

export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength)
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i]
  }
  return a.byteLength - b.byteLength
}

/** FNV-1a: a stable partition function, the same on every peer. */
export function fnv1a (bytes: Uint8Array): number {
  let h = 0x811c9dc5
  for (const b of bytes) {
    h ^= b
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

/** The shuffle: records of all map outputs split into R partitions, each sorted by key. */
export function partitionRecords (mapOutputs: readonly Uint8Array[], partitions: number): Uint8Array[] {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a whole number ≥ 1, not ${partitions}`)
  const buckets: KeyValue[][] = Array.from({ length: partitions }, () => [])
  for (const out of mapOutputs) {
    for (const r of decodeRecords(out)) buckets[fnv1a(r.key) % partitions].push(r)
  }
  return buckets.map(b => encodeRecords(b.sort((x, y) => compareBytes(x.key, y.key))))
}

/** Final output: all reduce outputs merged and sorted by key, so it is independent of placement. */
export function mergeReduceOutputs (outputs: readonly Uint8Array[]): KeyValue[] {
  return outputs.flatMap(o => decodeRecords(o)).sort((x, y) => compareBytes(x.key, y.key))
}

/**
 * Cuts text into chunks of about `target` bytes, only at ASCII whitespace or
 * punctuation, so no word is split across two map tasks.
 */
export function splitText (text: Uint8Array, target: number): Uint8Array[] {
  if (!(target >= 1)) throw new RangeError(`chunk size must be at least 1 byte, not ${target}`)
  const chunks: Uint8Array[] = []
  let start = 0
  while (start < text.byteLength) {
    let end = Math.min(start + target, text.byteLength)
    while (end < text.byteLength && isWordByte(text[end])) end++
    chunks.push(text.subarray(start, end))
    start = end
  }
  return chunks
}

/** Word bytes per ABI v1: ASCII letters and digits, and every byte ≥ 0x80. */
export function isWordByte (b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b >= 0x80
}
