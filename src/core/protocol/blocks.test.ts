import { describe, expect, it } from 'vitest'
import { encodeMessage } from './codec.js'
import {
  BLOCKS_PROTOCOL, BlockAssembler, MAX_BLOCK_BYTES, MAX_CID_LENGTH, MAX_PIECE_BYTES, MAX_REPLY_FRAME_BYTES, MAX_WANT_CIDS,
  decodeBlockReply, decodeBlockRequest, encodeBlockMessage, splitBlock
} from './blocks.js'
import type { BlockReply, BlockRequest } from './blocks.js'
import { thrown } from '../test-support.js'

const invalid = { name: 'InvalidMessageError', code: 'ERR_INVALID_MESSAGE' }
const tooLarge = { name: 'MessageTooLargeError', code: 'ERR_MESSAGE_TOO_LARGE' }
const badVersion = { name: 'UnsupportedVersionError', code: 'ERR_UNSUPPORTED_VERSION' }
const bytes = (n: number, fill = 7): Uint8Array => new Uint8Array(n).fill(fill)
const request = (value: unknown): BlockRequest => decodeBlockRequest(encodeMessage(value))
const reply = (value: unknown): BlockReply => decodeBlockReply(encodeMessage(value))

describe('blocks protocol messages', () => {
  it('names the protocol', () => {
    expect(BLOCKS_PROTOCOL).toBe('/fedra/blocks/1.0.0')
  })

  it('round-trips every message, as a fixed point', () => {
    const requests: BlockRequest[] = [
      { v: 1, t: 'want', cids: ['bafkreiaaa'] },
      { v: 1, t: 'want', cids: Array.from({ length: MAX_WANT_CIDS }, (_, i) => `c${i}`.padEnd(MAX_CID_LENGTH, 'x')) }
    ]
    for (const msg of requests) {
      const decoded = decodeBlockRequest(encodeBlockMessage(msg))
      expect(decoded).toEqual(msg)
      expect(encodeBlockMessage(decoded)).toEqual(encodeBlockMessage(msg))
    }
    const replies: BlockReply[] = [
      { v: 1, t: 'block', cid: 'bafkreiaaa', size: 10, off: 0, data: bytes(10) },
      { v: 1, t: 'block', cid: 'bafkreiaaa', size: 4096, off: 1024, data: bytes(3072) },
      { v: 1, t: 'block', cid: 'empty', size: 0, off: 0, data: new Uint8Array(0) },
      { v: 1, t: 'missing', cid: 'bafkreiaaa' },
      { v: 1, t: 'error', code: 'ERR_NOT_ROOM_MEMBER', message: 'prove the room key first' }
    ]
    for (const msg of replies) {
      const decoded = decodeBlockReply(encodeBlockMessage(msg))
      expect(decoded).toEqual(msg)
      expect(encodeBlockMessage(decoded)).toEqual(encodeBlockMessage(msg))
    }
  })

  it('the largest piece of the largest block fits one reply frame', () => {
    const frame = encodeBlockMessage({ v: 1, t: 'block', cid: 'c'.repeat(MAX_CID_LENGTH), size: MAX_BLOCK_BYTES, off: MAX_BLOCK_BYTES - MAX_PIECE_BYTES, data: bytes(MAX_PIECE_BYTES) })
    expect(frame.byteLength).toBeLessThanOrEqual(MAX_REPLY_FRAME_BYTES)
    const decoded = decodeBlockReply(frame)
    expect(decoded.t === 'block' && decoded.data.byteLength).toBe(MAX_PIECE_BYTES)
  })

  it('refuses oversized frames before parsing them', () => {
    const big = encodeBlockMessage({ v: 1, t: 'want', cids: Array.from({ length: 200 }, () => 'x'.repeat(250)) })
    expect(thrown(() => decodeBlockRequest(big))).toMatchObject(tooLarge)
    const piece = encodeBlockMessage({ v: 1, t: 'block', cid: 'c', size: 20, off: 0, data: bytes(20) })
    expect(thrown(() => decodeBlockReply(piece, { maxBytes: 10 }))).toMatchObject(tooLarge)
  })

  it('refuses too many CIDs, long CIDs, an empty want', () => {
    expect(thrown(() => request({ v: 1, t: 'want', cids: Array.from({ length: MAX_WANT_CIDS + 1 }, () => 'c') }))).toMatchObject(invalid)
    expect(thrown(() => request({ v: 1, t: 'want', cids: ['c'.repeat(MAX_CID_LENGTH + 1)] }))).toMatchObject(invalid)
    expect(thrown(() => request({ v: 1, t: 'want', cids: [] }))).toMatchObject(invalid)
    expect(thrown(() => request({ v: 1, t: 'want', cids: [1] }))).toMatchObject(invalid)
    expect(thrown(() => request({ v: 1, t: 'want', cids: 'c' }))).toMatchObject(invalid)
  })

  it('refuses pieces that do not fit their block or the limits', () => {
    const piece = { v: 1, t: 'block', cid: 'c', size: 10, off: 0, data: bytes(10) }
    expect(thrown(() => reply({ ...piece, off: 1 }))).toMatchObject(invalid) // runs past the end
    expect(thrown(() => reply({ ...piece, data: new Uint8Array(0) }))).toMatchObject(invalid) // empty piece of a non-empty block
    expect(thrown(() => reply({ ...piece, size: MAX_BLOCK_BYTES + 1 }))).toMatchObject(invalid)
    expect(thrown(() => reply({ ...piece, size: -1 }))).toMatchObject(invalid)
    expect(thrown(() => reply({ ...piece, off: 0.5 }))).toMatchObject(invalid)
    expect(thrown(() => reply({ ...piece, data: 'bytes' }))).toMatchObject(invalid)
    expect(thrown(() => decodeBlockReply(encodeMessage({ ...piece, size: 100, data: bytes(100) }), { maxPieceBytes: 64 }))).toMatchObject(invalid)
    expect(thrown(() => decodeBlockReply(encodeMessage({ ...piece, size: 100, data: bytes(10) }), { maxBlockBytes: 64 }))).toMatchObject(invalid)
    for (const k of ['cid', 'size', 'off', 'data']) {
      const o: Record<string, unknown> = { ...piece }
      delete o[k]
      expect(thrown(() => reply(o)), k).toMatchObject(invalid)
    }
  })

  it('checks version, type and shape; messages from the wrong side are refused', () => {
    expect(thrown(() => request({ v: 2, t: 'want', cids: ['c'] }))).toMatchObject(badVersion)
    expect(thrown(() => reply({ v: 0, t: 'missing', cid: 'c' }))).toMatchObject(badVersion)
    expect(thrown(() => request({ t: 'want', cids: ['c'] }))).toMatchObject(invalid)
    expect(thrown(() => request({ v: 1, t: 'missing', cid: 'c' }))).toMatchObject(invalid)
    expect(thrown(() => reply({ v: 1, t: 'want', cids: ['c'] }))).toMatchObject(invalid)
    expect(thrown(() => reply({ v: 1, t: 'error' }))).toMatchObject(invalid)
    for (const v of [[1, 'want'], 'want', 1, null, new Uint8Array(3)]) {
      expect(thrown(() => request(v))).toMatchObject(invalid)
      expect(thrown(() => reply(v))).toMatchObject(invalid)
    }
  })

  it('malformed CBOR and trailing bytes are InvalidMessageError', () => {
    const good = encodeBlockMessage({ v: 1, t: 'missing', cid: 'c' })
    expect(thrown(() => decodeBlockReply(good.subarray(0, good.byteLength - 1)))).toMatchObject(invalid)
    expect(thrown(() => decodeBlockReply(new Uint8Array([...good, 0])))).toMatchObject(invalid)
    expect(thrown(() => decodeBlockRequest(new Uint8Array([0xff])))).toMatchObject(invalid)
  })

  it('drops unknown fields', () => {
    expect(request({ v: 1, t: 'want', cids: ['c'], extra: 1 })).toEqual({ v: 1, t: 'want', cids: ['c'] })
    expect(reply({ v: 1, t: 'missing', cid: 'c', extra: 1 })).toEqual({ v: 1, t: 'missing', cid: 'c' })
  })
})

describe('splitBlock and BlockAssembler', () => {
  it('splits a block into pieces and reassembles it', () => {
    const block = Uint8Array.from({ length: 1000 }, (_, i) => i % 251)
    const pieces = splitBlock('a', block, 300)
    expect(pieces.map(p => [p.off, p.data.byteLength])).toEqual([[0, 300], [300, 300], [600, 300], [900, 100]])
    expect(splitBlock('e', new Uint8Array(0), 300)).toEqual([{ v: 1, t: 'block', cid: 'e', size: 0, off: 0, data: new Uint8Array(0) }])
    const asm = new BlockAssembler()
    asm.want(['a', 'e', 'm'])
    expect(asm.outstanding).toBe(3)
    const done = pieces.map(p => asm.accept(p))
    expect(done.slice(0, 3)).toEqual([undefined, undefined, undefined])
    expect(done[3]).toEqual({ cid: 'a', bytes: block })
    expect(asm.accept(splitBlock('e', new Uint8Array(0), 300)[0])).toEqual({ cid: 'e', bytes: new Uint8Array(0) })
    expect(asm.accept({ v: 1, t: 'missing', cid: 'm' })).toEqual({ cid: 'm' })
    expect(asm.outstanding).toBe(0)
  })

  it('refuses replies not asked for, out of order, or inconsistent', () => {
    const block = bytes(100)
    const [p0, p1] = splitBlock('a', block, 50)
    const fresh = (): BlockAssembler => { const a = new BlockAssembler(); a.want(['a', 'b']); return a }
    expect(thrown(() => new BlockAssembler().accept(p0))).toMatchObject(invalid) // nothing wanted
    expect(thrown(() => fresh().accept({ ...p0, cid: 'b' }))).toMatchObject(invalid) // out of order
    expect(thrown(() => fresh().accept({ ...p0, cid: 'x' }))).toMatchObject(invalid) // not wanted
    expect(thrown(() => fresh().accept(p1))).toMatchObject(invalid) // does not start at 0
    let asm = fresh()
    asm.accept(p0)
    expect(thrown(() => asm.accept(p0))).toMatchObject(invalid) // a repeated piece
    asm = fresh()
    asm.accept(p0)
    expect(thrown(() => asm.accept({ ...p1, size: 120 }))).toMatchObject(invalid) // size changed
    asm = fresh()
    asm.accept(p0)
    expect(thrown(() => asm.accept({ v: 1, t: 'missing', cid: 'a' }))).toMatchObject(invalid) // missing after a piece
  })
})
