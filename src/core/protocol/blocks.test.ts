import { describe, expect, it } from 'vitest'
import { encodeMessage } from './codec.js'
import {
  BLOCKS_PROTOCOL, BlockAssembler, MAX_BLOCK_BYTES, MAX_CID_LENGTH, MAX_PIECE_BYTES, MAX_REPLY_FRAME_BYTES, MAX_WANT_CIDS,
  decodeBlockReply, decodeBlockReplyView, decodeBlockRequest, encodeBlockMessage, encodeBlockPiece, splitBlock
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

describe('pieces without copies: encodeBlockPiece and decodeBlockReplyView', () => {
  const join = (parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts))
  const outcome = (decode: () => BlockReply): unknown => {
    try {
      return decode()
    } catch (err) {
      return { name: (err as Error).name }
    }
  }

  it('a piece sent as head + data decodes as the same message, by either decoder, its data not copied by the view', () => {
    for (const n of [0, 5, 23, 24, 255, 256, 65535, 65536, 262144, MAX_PIECE_BYTES]) {
      const piece: BlockReply = { v: 1, t: 'block', cid: 'bafkreiaaa', size: MAX_BLOCK_BYTES, off: n === 0 ? 0 : 1, data: bytes(n, n & 0xff) }
      if (n === 0) piece.size = 0
      const [head, data] = encodeBlockPiece(piece)
      expect(data).toBe(piece.data)
      const frame = join([head, data])
      // fields with toEqual, data with Buffer.compare (vitest's element-wise diff takes seconds per MiB)
      const { data: _, ...fields } = piece as Extract<BlockReply, { t: 'block' }>
      for (const got of [decodeBlockReply(frame), decodeBlockReplyView(frame)] as Array<Extract<BlockReply, { t: 'block' }>>) {
        const { data: d, ...rest } = got
        expect(rest).toEqual(fields)
        expect(Buffer.compare(d, piece.data as Uint8Array)).toBe(0)
      }
      const view = decodeBlockReplyView(frame)
      if (view.t === 'block' && n > 0) expect(view.data.buffer).toBe(frame.buffer)
    }
  })

  it('takes canonical frames too, and every other reply', () => {
    const replies: BlockReply[] = [
      { v: 1, t: 'block', cid: 'bafkreiaaa', size: 4096, off: 1024, data: bytes(3072) },
      { v: 1, t: 'missing', cid: 'bafkreiaaa' },
      { v: 1, t: 'error', code: 'ERR_NOT_ROOM_MEMBER', message: 'prove the room key first' },
      { v: 1, t: 'error', code: 'ERR_X', message: 'ü is not ASCII: the CBOR decoder reads it' }
    ]
    for (const msg of replies) expect(decodeBlockReplyView(encodeBlockMessage(msg))).toEqual(msg)
  })

  it('accepts and refuses exactly what decodeBlockReply does, on every one-byte change and cut of a frame', () => {
    const frames = [
      join(encodeBlockPiece({ v: 1, t: 'block', cid: 'bafkreiaaa', size: 300, off: 0, data: bytes(300) })),
      encodeBlockMessage({ v: 1, t: 'block', cid: 'bafkreiaaa', size: 40, off: 8, data: bytes(32) }),
      encodeBlockMessage({ v: 1, t: 'missing', cid: 'bafkreiaaa' })
    ]
    for (const frame of frames) {
      const heads = Math.min(frame.byteLength, 48)
      for (let i = 0; i < heads; i++) {
        for (const b of [0x00, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x40, 0x58, 0x5f, 0x60, 0x78, 0xa5, 0xa6, 0xa7, 0xbf, 0xf6, 0xff, frame[i] ^ 1]) {
          const mutated = frame.slice()
          mutated[i] = b
          expect(outcome(() => decodeBlockReplyView(mutated)), `byte ${i} = ${b}`).toEqual(outcome(() => decodeBlockReply(mutated)))
        }
      }
      for (const cut of [1, 2, 7, frame.byteLength - 1]) {
        const short = frame.subarray(0, cut)
        expect(outcome(() => decodeBlockReplyView(short))).toEqual(outcome(() => decodeBlockReply(short)))
      }
      const long = join([frame, new Uint8Array([0])])
      expect(outcome(() => decodeBlockReplyView(long))).toEqual(outcome(() => decodeBlockReply(long)))
    }
  })

  it('refuses an oversized frame before reading it', () => {
    const frame = join(encodeBlockPiece({ v: 1, t: 'block', cid: 'c', size: 1000, off: 0, data: bytes(1000) }))
    expect(thrown(() => decodeBlockReplyView(frame, { maxBytes: 999 }))).toMatchObject(tooLarge)
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
