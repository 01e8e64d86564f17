import { describe, expect, it } from 'vitest'
import { encodeMessage } from '../protocol/codec.js'
import { thrown } from '../test-support.js'
import { chunkBytes, decodeVideoUnit, decodeVideoUnitResult, encodeVideoUnit, encodeVideoUnitResult, outputTimestamps } from './units.js'
import type { VideoChunk, VideoUnit, VideoUnitResult } from './units.js'

const invalid = { name: 'InvalidMessageError', code: 'ERR_INVALID_MESSAGE' }
const tooLarge = { name: 'MessageTooLargeError', code: 'ERR_MESSAGE_TOO_LARGE' }
const badVersion = { name: 'UnsupportedVersionError', code: 'ERR_UNSUPPORTED_VERSION' }

const chunk = (i: number, key = i === 0, size = 100): VideoChunk => ({ key, timestamp: i * 40_000, duration: 40_000, data: new Uint8Array(size).fill(i & 255) })

const unit = (): VideoUnit => ({
  index: 3,
  config: { codec: 'avc1.64001e', codedWidth: 640, codedHeight: 368, displayWidth: 640, displayHeight: 360, description: new Uint8Array([1, 100, 0, 30]) },
  chunks: Array.from({ length: 30 }, (_, i) => chunk(i)),
  skip: 10
})

const result = (): VideoUnitResult => ({
  index: 3,
  config: { codec: 'vp8', codedWidth: 640, codedHeight: 360 },
  chunks: Array.from({ length: 20 }, (_, i) => chunk(i + 10, i === 0)),
  frames: 20,
  hash: 'ab'.repeat(32)
})

/** The wire form of a unit, to break on purpose. */
function wire (u: VideoUnit = unit()): Record<string, any> {
  return {
    v: 1,
    t: 'video-unit',
    index: u.index,
    config: { codec: u.config.codec, w: u.config.codedWidth, h: u.config.codedHeight, dw: u.config.displayWidth, dh: u.config.displayHeight, desc: u.config.description },
    skip: u.skip,
    chunks: u.chunks.map(c => ({ k: c.key, ts: c.timestamp, d: c.duration, b: c.data }))
  }
}
const decodeRaw = (value: unknown): VideoUnit => decodeVideoUnit(encodeMessage(value))

describe('video unit codec', () => {
  it('round-trips a unit, bytes fixed by the value', () => {
    const u = unit()
    const bytes = encodeVideoUnit(u)
    expect(decodeVideoUnit(bytes)).toEqual(u)
    expect(encodeVideoUnit(decodeVideoUnit(bytes))).toEqual(bytes)
  })

  it('round-trips a unit with no description and no display size, skip 0, negative timestamps', () => {
    const u: VideoUnit = { index: 0, config: { codec: 'vp09.00.10.08', codedWidth: 704, codedHeight: 360 }, chunks: [{ ...chunk(0), timestamp: -80_000 }, chunk(1)], skip: 0 }
    expect(decodeVideoUnit(encodeVideoUnit(u))).toEqual(u)
  })

  it('round-trips a result', () => {
    const r = result()
    expect(decodeVideoUnitResult(encodeVideoUnitResult(r))).toEqual(r)
  })

  it('names the output frames and sizes', () => {
    expect(outputTimestamps(unit())).toEqual(Array.from({ length: 20 }, (_, i) => (i + 10) * 40_000))
    expect(chunkBytes(unit().chunks)).toBe(3000)
  })

  it('refuses to encode a unit that outputs nothing', () => {
    expect(thrown(() => encodeVideoUnit({ ...unit(), skip: 30 }))).toMatchObject(invalid)
  })

  it('does not take a result for a unit or the other way round', () => {
    expect(thrown(() => decodeVideoUnitResult(encodeVideoUnit(unit())))).toMatchObject(invalid)
    expect(thrown(() => decodeVideoUnit(encodeVideoUnitResult(result())))).toMatchObject(invalid)
  })
})

describe('video unit codec: malformed input', () => {
  const cases: Array<[string, (w: Record<string, any>) => unknown]> = [
    ['not a map', () => [1, 2, 3]],
    ['bytes instead of a map', () => new Uint8Array(4)],
    ['no type', w => ({ ...w, t: undefined })],
    ['index negative', w => ({ ...w, index: -1 })],
    ['index fractional', w => ({ ...w, index: 1.5 })],
    ['no config', w => ({ ...w, config: undefined })],
    ['empty codec', w => ({ ...w, config: { ...w.config, codec: '' } })],
    ['codec too long', w => ({ ...w, config: { ...w.config, codec: 'a'.repeat(200) } })],
    ['width 0', w => ({ ...w, config: { ...w.config, w: 0 } })],
    ['height too large', w => ({ ...w, config: { ...w.config, h: 100_000 } })],
    ['one display side only', w => ({ ...w, config: { ...w.config, dh: undefined } })],
    ['description not bytes', w => ({ ...w, config: { ...w.config, desc: 'avcC' } })],
    ['description too large', w => ({ ...w, config: { ...w.config, desc: new Uint8Array(70_000) } })],
    ['no chunks', w => ({ ...w, chunks: [] })],
    ['chunks not a list', w => ({ ...w, chunks: { 0: w.chunks[0] } })],
    ['first chunk not a key frame', w => ({ ...w, chunks: w.chunks.map((c: any) => ({ ...c, k: false })) })],
    ['chunk key not a boolean', w => ({ ...w, chunks: [{ ...w.chunks[0], k: 1 }] })],
    ['chunk timestamp not an integer', w => ({ ...w, chunks: [{ ...w.chunks[0], ts: 0.5 }] })],
    ['chunk duration negative', w => ({ ...w, chunks: [{ ...w.chunks[0], d: -1 }] })],
    ['chunk data a string', w => ({ ...w, chunks: [{ ...w.chunks[0], b: 'xx' }] })],
    ['chunk a list', w => ({ ...w, chunks: [[true, 0, 1, new Uint8Array(1)]] })],
    ['skip past the end', w => ({ ...w, skip: 30 })],
    ['skip negative', w => ({ ...w, skip: -1 })],
    ['skip missing', w => ({ ...w, skip: undefined })]
  ]
  for (const [name, mutate] of cases) {
    it(`refuses a unit with ${name}`, () => {
      expect(thrown(() => decodeRaw(mutate(wire())))).toMatchObject(invalid)
    })
  }

  it('refuses another version with a version error', () => {
    expect(thrown(() => decodeRaw({ ...wire(), v: 2 }))).toMatchObject(badVersion)
    expect(thrown(() => decodeRaw({ ...wire(), v: undefined }))).toMatchObject(invalid)
  })

  it('refuses garbage and truncated bytes', () => {
    expect(thrown(() => decodeVideoUnit(new Uint8Array([0xff, 0x00, 0x13])))).toMatchObject(invalid)
    const bytes = encodeVideoUnit(unit())
    expect(thrown(() => decodeVideoUnit(bytes.subarray(0, bytes.length - 7)))).toMatchObject(invalid)
    expect(thrown(() => decodeVideoUnit(new Uint8Array([...bytes, 0])))).toMatchObject(invalid)
  })

  it('checks the size before parsing, and bounds the chunk count', () => {
    const bytes = encodeVideoUnit(unit())
    expect(thrown(() => decodeVideoUnit(bytes, { maxBytes: bytes.length - 1 }))).toMatchObject(tooLarge)
    expect(decodeVideoUnit(bytes, { maxBytes: bytes.length }).chunks.length).toBe(30)
    expect(thrown(() => decodeVideoUnit(bytes, { maxChunks: 29 }))).toMatchObject(invalid)
    const big = encodeVideoUnit({ ...unit(), chunks: [chunk(0, true, 65 * 1024 * 1024)], skip: 0 })
    expect(thrown(() => decodeVideoUnit(big))).toMatchObject(tooLarge)
  })

  it('refuses results with a bad hash, frame count or chunk list', () => {
    const r = (over: Record<string, unknown>): Uint8Array => {
      const x = result()
      return encodeMessage({ v: 1, t: 'video-result', index: x.index, config: { codec: 'vp8', w: 640, h: 360 }, frames: x.frames, hash: x.hash, chunks: x.chunks.map(c => ({ k: c.key, ts: c.timestamp, d: c.duration, b: c.data })), ...over })
    }
    expect(decodeVideoUnitResult(r({})).frames).toBe(20)
    for (const over of [{ hash: 'AB'.repeat(32) }, { hash: 'ab' }, { hash: 7 }, { frames: 0 }, { frames: -2 }, { chunks: [] }, { config: null }]) {
      expect(thrown(() => decodeVideoUnitResult(r(over)))).toMatchObject(invalid)
    }
    expect(thrown(() => decodeVideoUnitResult(r({}), { maxChunks: 10 }))).toMatchObject(invalid)
  })
})
