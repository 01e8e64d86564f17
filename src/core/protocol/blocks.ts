import { InvalidMessageError } from '../errors.js'
import { decodeMessage, encodeMessage } from './codec.js'
import { asObject, readBytes, readEnum, readInt, readOptionalString, readString, readStringArray, readVersion } from './validate.js'
import type { DecodeLimits } from './codec.js'

/**
 * `/fedra/blocks/1.0.0`: a peer asks a named peer for blocks by CID and the
 * holder answers with their bytes, in the order asked, each block in pieces
 * of at most `MAX_PIECE_BYTES`. The fetcher names the CIDs it learned from
 * blocks it already checked (a DAG's links), so it can verify every block
 * against its CID. Served only to peers that proved the room key
 * (docs/protocol.md §7, docs/decisions.md).
 */
export const BLOCKS_PROTOCOL = '/fedra/blocks/1.0.0'
export const BLOCKS_PROTOCOL_VERSION = 1

/** Largest block served or accepted. Ours are ≤ 1 MiB (raw blocks and UnixFS leaves). */
export const MAX_BLOCK_BYTES = 2 * 1024 * 1024
/** Largest piece of a block in one frame. */
export const MAX_PIECE_BYTES = 1024 * 1024
/** CIDs in one `want`. */
export const MAX_WANT_CIDS = 64
export const MAX_CID_LENGTH = 256
/** A `want` frame: 64 CIDs of ≤ 256 characters, plus headroom. */
export const MAX_WANT_FRAME_BYTES = 32 * 1024
/** A reply frame: one piece plus its header. */
export const MAX_REPLY_FRAME_BYTES = MAX_PIECE_BYTES + 1024

/** Fetcher → holder: send these blocks, in this order. */
export interface BlockWant { v: 1, t: 'want', cids: string[] }
/** Holder → fetcher: bytes `off` to `off + data.length` of block `cid`, which is `size` bytes long. */
export interface BlockPiece { v: 1, t: 'block', cid: string, size: number, off: number, data: Uint8Array }
/** Holder → fetcher: the holder does not have `cid`. */
export interface BlockMissing { v: 1, t: 'missing', cid: string }
/** Holder → fetcher: the stream is refused or broken (then closed). Codes as in src/core/errors.ts. */
export interface BlockRefusal { v: 1, t: 'error', code: string, message: string }

export type BlockRequest = BlockWant
export type BlockReply = BlockPiece | BlockMissing | BlockRefusal

export interface BlockLimits extends DecodeLimits {
  /** Largest block a piece may belong to. */
  maxBlockBytes?: number
  /** Largest piece. */
  maxPieceBytes?: number
}

export function readBlockRequest (value: unknown): BlockRequest {
  const o = asObject(value, 'message')
  readVersion(o, BLOCKS_PROTOCOL_VERSION, 'blocks message')
  readEnum(o, 't', 'message', ['want'] as const)
  const cids = readStringArray(o, 'cids', 'want', MAX_WANT_CIDS, MAX_CID_LENGTH)
  if (cids.length === 0) throw new InvalidMessageError('want.cids must name at least one block')
  return { v: 1, t: 'want', cids }
}

export function readBlockReply (value: unknown, limits: BlockLimits = {}): BlockReply {
  const maxBlock = limits.maxBlockBytes ?? MAX_BLOCK_BYTES
  const maxPiece = limits.maxPieceBytes ?? MAX_PIECE_BYTES
  const o = asObject(value, 'message')
  readVersion(o, BLOCKS_PROTOCOL_VERSION, 'blocks message')
  const t = readEnum(o, 't', 'message', ['block', 'missing', 'error'] as const)
  switch (t) {
    case 'missing': return { v: 1, t, cid: readString(o, 'cid', 'missing', MAX_CID_LENGTH) }
    case 'error': return {
      v: 1,
      t,
      code: readString(o, 'code', 'error', 64),
      message: readOptionalString(o, 'message', 'error', 1024) ?? ''
    }
    case 'block': {
      const cid = readString(o, 'cid', 'block', MAX_CID_LENGTH)
      const size = readInt(o, 'size', 'block', 0, maxBlock)
      const off = readInt(o, 'off', 'block', 0, maxBlock)
      const data = readBytes(o, 'data', 'block', maxPiece)
      if (off + data.byteLength > size) throw new InvalidMessageError(`block piece ${off}+${data.byteLength} runs past the block's ${size} bytes`)
      if (data.byteLength === 0 && size > 0) throw new InvalidMessageError('block piece is empty')
      return { v: 1, t, cid, size, off, data }
    }
  }
}

export function encodeBlockMessage (msg: BlockRequest | BlockReply): Uint8Array {
  return encodeMessage(msg)
}

export function decodeBlockRequest (bytes: Uint8Array, limits: DecodeLimits = { maxBytes: MAX_WANT_FRAME_BYTES }): BlockRequest {
  return readBlockRequest(decodeMessage(bytes, limits))
}

export function decodeBlockReply (bytes: Uint8Array, limits: BlockLimits = { maxBytes: MAX_REPLY_FRAME_BYTES }): BlockReply {
  return readBlockReply(decodeMessage(bytes, limits), limits)
}

/**
 * A block piece as two byte strings to send one after the other (the
 * frame's bytes in order): the CBOR map's head, fields and the `data` key,
 * then the piece's bytes themselves, not copied. The map holds the same
 * fields as `encodeBlockMessage` gives, with `data` last, so the receiver
 * can take the data without a copy (`decodeBlockReplyView`); any CBOR
 * decoder reads it (map order is not significant).
 */
export function encodeBlockPiece (piece: BlockPiece): [Uint8Array, Uint8Array] {
  const fields = encodeMessage({ v: piece.v, t: piece.t, cid: piece.cid, size: piece.size, off: piece.off })
  // a canonical map of 5 short entries starts with its one-byte head 0xa5
  if (fields[0] !== 0xa5) throw new InvalidMessageError('block piece fields did not encode as a map of 5')
  const n = piece.data.byteLength
  const lengthBytes = n < 24 ? 0 : n < 0x100 ? 1 : n < 0x10000 ? 2 : 4
  const head = new Uint8Array(fields.byteLength + DATA_KEY.byteLength + 1 + lengthBytes)
  head.set(fields)
  head[0] = 0xa6
  let pos = fields.byteLength
  head.set(DATA_KEY, pos)
  pos += DATA_KEY.byteLength
  const info = lengthBytes === 0 ? n : lengthBytes === 1 ? 24 : lengthBytes === 2 ? 25 : 26
  head[pos++] = 0x40 | info
  for (let i = lengthBytes - 1; i >= 0; i--) head[pos++] = (n / 2 ** (8 * i)) & 0xff
  return [head, piece.data]
}

/** CBOR text "data". */
const DATA_KEY = new Uint8Array([0x64, 0x64, 0x61, 0x74, 0x61])

/**
 * `decodeBlockReply`, with a piece's `data` a view into `bytes` instead of
 * a copy (valid while `bytes` is). Reads a map of up to 8 text keys to
 * unsigned integers, ASCII text and byte strings, as strictly as the CBOR
 * decoder does (shortest-form lengths, no duplicate keys, nothing after the
 * map); anything else goes through `decodeBlockReply`, with the same limits
 * and checks, so both accept and refuse the same frames.
 */
export function decodeBlockReplyView (bytes: Uint8Array, limits: BlockLimits = { maxBytes: MAX_REPLY_FRAME_BYTES }): BlockReply {
  const max = limits.maxBytes ?? MAX_REPLY_FRAME_BYTES
  const fields = bytes.byteLength <= max ? readFlatMap(bytes) : undefined
  return fields == null ? decodeBlockReply(bytes, limits) : readBlockReply(fields, limits)
}

/** A flat CBOR map read without copying byte strings, or undefined for anything this reader does not take. */
function readFlatMap (bytes: Uint8Array): Record<string, number | string | Uint8Array> | undefined {
  let pos = 0
  /** The argument of the item at `pos` (shortest form only), or -1. */
  const head = (): { major: number, value: number } | undefined => {
    if (pos >= bytes.byteLength) return undefined
    const b = bytes[pos++]
    const major = b >> 5
    const info = b & 31
    if (info < 24) return { major, value: info }
    const n = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : 0
    if (n === 0 || pos + n > bytes.byteLength) return undefined
    let value = 0
    for (let i = 0; i < n; i++) value = value * 256 + bytes[pos++]
    const least = n === 1 ? 24 : n === 2 ? 0x100 : 0x10000
    return value < least ? undefined : { major, value }
  }
  const text = (length: number): string | undefined => {
    if (pos + length > bytes.byteLength) return undefined
    let out = ''
    for (let i = 0; i < length; i++) {
      const c = bytes[pos + i]
      if (c >= 0x80) return undefined
      out += String.fromCharCode(c)
    }
    pos += length
    return out
  }
  const map = head()
  if (map == null || map.major !== 5 || map.value > 8) return undefined
  const out: Record<string, number | string | Uint8Array> = {}
  for (let i = 0; i < map.value; i++) {
    const k = head()
    if (k == null || k.major !== 3 || k.value > 16) return undefined
    const key = text(k.value)
    if (key == null || Object.prototype.hasOwnProperty.call(out, key)) return undefined
    const v = head()
    if (v == null) return undefined
    if (v.major === 0) {
      out[key] = v.value
    } else if (v.major === 2) {
      if (pos + v.value > bytes.byteLength) return undefined
      out[key] = bytes.subarray(pos, pos + v.value)
      pos += v.value
    } else if (v.major === 3) {
      const t = text(v.value)
      if (t == null) return undefined
      out[key] = t
    } else {
      return undefined
    }
  }
  return pos === bytes.byteLength ? out : undefined
}

/** The pieces of one block, `pieceBytes` each (one empty piece for an empty block). */
export function splitBlock (cid: string, block: Uint8Array, pieceBytes: number): BlockPiece[] {
  if (!Number.isInteger(pieceBytes) || pieceBytes < 1) throw new RangeError('pieceBytes must be a positive integer')
  const pieces: BlockPiece[] = []
  for (let off = 0; off < block.byteLength || pieces.length === 0; off += pieceBytes) {
    pieces.push({ v: 1, t: 'block', cid, size: block.byteLength, off, data: block.subarray(off, Math.min(block.byteLength, off + pieceBytes)) })
  }
  return pieces
}

/**
 * Reassembles the holder's replies for the fetcher: they must answer the
 * wanted CIDs in order, each block's pieces contiguous and consistent. A
 * reply about anything else is an InvalidMessageError: a holder that sends
 * what was not asked for (or out of order) is broken or hostile.
 */
export class BlockAssembler {
  private readonly queue: string[] = []
  private head = 0
  private current: { cid: string, size: number, got: number, bytes: Uint8Array } | undefined

  /** CIDs asked for and not answered yet. */
  get outstanding (): number {
    return this.queue.length - this.head
  }

  want (cids: readonly string[]): void {
    this.queue.push(...cids)
  }

  /**
   * Feeds one reply. Returns the answer it completes (a whole block, or a
   * missing one), or undefined while a block's pieces are still coming.
   */
  accept (reply: BlockPiece | BlockMissing): { cid: string, bytes?: Uint8Array } | undefined {
    const expected = this.queue[this.head]
    if (expected == null) throw new InvalidMessageError(`holder sent ${reply.t} ${reply.cid.slice(0, 80)} that was not asked for`)
    if (reply.cid !== expected) throw new InvalidMessageError(`holder answered ${reply.cid.slice(0, 80)} where ${expected} was next`)
    if (reply.t === 'missing') {
      if (this.current != null) throw new InvalidMessageError(`holder said ${expected} is missing after sending part of it`)
      return this.next(expected)
    }
    if (this.current == null) {
      if (reply.off !== 0) throw new InvalidMessageError(`block ${expected} must start at offset 0, not ${reply.off}`)
      this.current = { cid: expected, size: reply.size, got: 0, bytes: new Uint8Array(reply.size) }
    }
    const cur = this.current
    if (reply.size !== cur.size) throw new InvalidMessageError(`block ${expected} changed size from ${cur.size} to ${reply.size}`)
    if (reply.off !== cur.got) throw new InvalidMessageError(`block ${expected} piece at ${reply.off}, expected ${cur.got}`)
    cur.bytes.set(reply.data, cur.got)
    cur.got += reply.data.byteLength
    if (cur.got < cur.size) return undefined
    this.current = undefined
    return { ...this.next(expected), bytes: cur.bytes }
  }

  private next (cid: string): { cid: string } {
    this.head++
    // keep the queue short on long transfers
    if (this.head > 1024) { this.queue.splice(0, this.head); this.head = 0 }
    return { cid }
  }
}
