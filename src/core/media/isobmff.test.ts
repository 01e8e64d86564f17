import { describe, expect, it } from 'vitest'
import { clearMp4Times } from './isobmff.js'

/** A box: u32 size, 4-char type, body. */
function box (type: string, ...body: Uint8Array[]): Uint8Array {
  const size = 8 + body.reduce((n, b) => n + b.byteLength, 0)
  const out = new Uint8Array(size)
  new DataView(out.buffer).setUint32(0, size)
  out.set([...type].map(c => c.charCodeAt(0)), 4)
  let at = 8
  for (const b of body) { out.set(b, at); at += b.byteLength }
  return out
}

/** A full box with version 0 (u32 times) or 1 (u64 times), times set to 0xAB bytes, then `rest` bytes of 0x11. */
function timed (type: string, version: 0 | 1, rest = 20): Uint8Array {
  const w = version === 1 ? 8 : 4
  const body = new Uint8Array(4 + 2 * w + rest).fill(0x11)
  body[0] = version; body[1] = 0; body[2] = 0; body[3] = 0
  body.fill(0xab, 4, 4 + 2 * w)
  return box(type, body)
}

describe('clearMp4Times', () => {
  it('zeroes the movie, track and media header times, nothing else', () => {
    const mdatBody = new Uint8Array([...box('mvhd', new Uint8Array(12).fill(0xab))])
    const file = box('ftyp', new Uint8Array(8).fill(0x22))
    const moov = box('moov', timed('mvhd', 0), box('trak', timed('tkhd', 1), box('mdia', timed('mdhd', 0), box('hdlr', new Uint8Array(8).fill(0xab)))))
    const mdat = box('mdat', mdatBody)
    const bytes = new Uint8Array([...file, ...moov, ...mdat])
    const before = bytes.slice()
    expect(clearMp4Times(bytes)).toBe(3)
    // only the time fields changed: 8 + 16 + 8 bytes
    const changed = bytes.reduce((n, b, i) => n + (b !== before[i] ? 1 : 0), 0)
    expect(changed).toBe(32)
    // the look-alike inside mdat is media data: untouched
    expect(bytes.slice(-mdatBody.length)).toEqual(mdatBody)
    expect(clearMp4Times(bytes)).toBe(3)
  })

  it('stops quietly on truncated or nonsense input', () => {
    const moov = box('moov', timed('mvhd', 0))
    expect(clearMp4Times(moov.slice(0, moov.length - 10))).toBe(0)
    expect(clearMp4Times(new Uint8Array([0, 0, 0, 4, 1, 2]))).toBe(0)
    expect(clearMp4Times(new Uint8Array(0))).toBe(0)
    const bad = box('moov', new Uint8Array(16))
    new DataView(bad.buffer).setUint32(8, 0xffffffff)
    expect(clearMp4Times(bad)).toBe(0)
  })
})
