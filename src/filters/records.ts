/**
 * Helpers for MapReduce records as the ABI carries them (`[u32le keyLen][key]
 * [u32le valueLen][value]`); the codec itself lives in the core.
 */
import { InvalidMessageError } from '../core/errors.js'
import { compareBytes, fnv1a } from '../core/mapreduce/records.js'
import type { KeyValue } from '../core/mapreduce/records.js'

export { compareBytes, decodeRecords, encodeRecords } from '../core/mapreduce/records.js'
export type { KeyValue } from '../core/mapreduce/records.js'

export function sortRecords (records: KeyValue[]): KeyValue[] {
  return [...records].sort((x, y) => compareBytes(x.key, y.key))
}

/** FNV-1a of the key, so every peer sends a key to the same partition. */
export function partitionOf (key: Uint8Array, partitions: number): number {
  return fnv1a(key) % partitions
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
