import { InvalidMessageError } from '../errors.js'

/**
 * A batch task runs one function over a list of items (tiles of a row,
 * frames of a clip, records of a chunk), each with its own params and
 * input. The worker calls the function once per item, reports the outputs
 * of the items it has done with its progress, and can be told to stop at an
 * item boundary: the rest then goes to another worker (a split), and a run
 * lost with its worker resumes from the first item not reported.
 *
 * Wire layout (little endian), inputs:  u32 count, then per item
 *   u32 paramsLength, params, u32 dataLength, data
 * outputs: u32 count, then per item u32 length, bytes.
 */
export interface BatchItem {
  params: Uint8Array
  data: Uint8Array
}

/** Items in one batch at most: the ranges in task messages are bounded by it. */
export const MAX_BATCH_ITEMS = 65_536

export function encodeBatch (items: readonly BatchItem[]): Uint8Array {
  if (items.length > MAX_BATCH_ITEMS) throw new InvalidMessageError(`a batch holds at most ${MAX_BATCH_ITEMS} items, not ${items.length}`)
  let size = 4
  for (const it of items) size += 8 + it.params.byteLength + it.data.byteLength
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  view.setUint32(0, items.length, true)
  let at = 4
  for (const it of items) {
    view.setUint32(at, it.params.byteLength, true)
    out.set(it.params, at + 4)
    at += 4 + it.params.byteLength
    view.setUint32(at, it.data.byteLength, true)
    out.set(it.data, at + 4)
    at += 4 + it.data.byteLength
  }
  return out
}

/** Reads `n` length-prefixed fields from `bytes` at `at`; every length is checked against what is left. */
function reader (bytes: Uint8Array, what: string): { u32: () => number, take: (n: number) => Uint8Array, left: () => number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = 0
  return {
    u32: () => {
      if (at + 4 > bytes.byteLength) throw new InvalidMessageError(`${what} ends inside a length field at byte ${at}`)
      const v = view.getUint32(at, true)
      at += 4
      return v
    },
    take: (n: number) => {
      if (n > bytes.byteLength - at) throw new InvalidMessageError(`${what} says ${n} bytes follow at byte ${at}, but only ${bytes.byteLength - at} do`)
      const v = bytes.subarray(at, at + n)
      at += n
      return v
    },
    left: () => bytes.byteLength - at
  }
}

/** Decodes a batch; malformed bytes (from the network) throw `InvalidMessageError` naming what is wrong. */
export function decodeBatch (bytes: Uint8Array): BatchItem[] {
  const r = reader(bytes, 'batch')
  const count = r.u32()
  // each item takes at least 8 bytes: a count larger than that is a lie
  if (count > MAX_BATCH_ITEMS || count * 8 > r.left()) throw new InvalidMessageError(`batch claims ${count} items in ${bytes.byteLength} bytes`)
  const items: BatchItem[] = []
  for (let i = 0; i < count; i++) {
    const params = r.take(r.u32())
    const data = r.take(r.u32())
    items.push({ params, data })
  }
  if (r.left() !== 0) throw new InvalidMessageError(`batch has ${r.left()} bytes after its ${count} items`)
  return items
}

export function encodeOutputs (outputs: readonly Uint8Array[]): Uint8Array {
  let size = 4
  for (const o of outputs) size += 4 + o.byteLength
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  view.setUint32(0, outputs.length, true)
  let at = 4
  for (const o of outputs) {
    view.setUint32(at, o.byteLength, true)
    out.set(o, at + 4)
    at += 4 + o.byteLength
  }
  return out
}

/** Decodes item outputs; `expected`, when given, is the count they must hold. */
export function decodeOutputs (bytes: Uint8Array, expected?: number): Uint8Array[] {
  const r = reader(bytes, 'batch outputs')
  const count = r.u32()
  if (count > MAX_BATCH_ITEMS || count * 4 > r.left()) throw new InvalidMessageError(`batch outputs claim ${count} items in ${bytes.byteLength} bytes`)
  if (expected != null && count !== expected) throw new InvalidMessageError(`batch outputs hold ${count} items, ${expected} expected`)
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) out.push(r.take(r.u32()))
  if (r.left() !== 0) throw new InvalidMessageError(`batch outputs have ${r.left()} bytes after their ${count} items`)
  return out
}
