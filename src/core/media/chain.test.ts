import { describe, expect, it } from 'vitest'
import { encodeMessage } from '../protocol/codec.js'
import { unmetRequirements } from '../requirements/requirement.js'
import { testCaps } from '../test-support.js'
import { codecFamily, decodeVideoChain, encodeVideoChain } from './chain.js'
import type { VideoChain } from './chain.js'

const chain: VideoChain = {
  v: 1,
  filters: [
    { cid: 'bafkreigrey', simdCid: 'bafkreigreysimd', entry: 'grayscale', values: [], memoryPages: 16 },
    { cid: 'bafkreiblur', entry: 'boxblur', values: [3], memoryPages: 30 }
  ],
  codec: 'vp8',
  bitrate: 1_000_000
}

describe('video chain manifest', () => {
  it('round-trips and keeps the filters in order', () => {
    expect(decodeVideoChain(encodeVideoChain(chain))).toEqual(chain)
  })

  it('refuses malformed chains with the field named', () => {
    const bad = (value: unknown): Uint8Array => encodeMessage(value)
    expect(() => decodeVideoChain(bad({ ...chain, v: 2 }))).toThrow(/version 2/)
    expect(() => decodeVideoChain(bad({ ...chain, filters: 'x' }))).toThrow(/filters/)
    expect(() => decodeVideoChain(bad({ ...chain, filters: Array(17).fill(chain.filters[0]) }))).toThrow(/at most 16/)
    expect(() => decodeVideoChain(bad({ ...chain, filters: [{ ...chain.filters[0], values: [-1] }] }))).toThrow(/unsigned/)
    expect(() => decodeVideoChain(bad({ ...chain, filters: [{ ...chain.filters[0], memoryPages: 0 }] }))).toThrow(/memoryPages/)
    expect(() => decodeVideoChain(bad({ ...chain, bitrate: 1 }))).toThrow(/bitrate/)
    expect(() => decodeVideoChain(new Uint8Array([0xff, 0x00]))).toThrow(/malformed CBOR/)
    expect(() => decodeVideoChain(new Uint8Array(20_000))).toThrow(/exceeds/)
  })
})

describe('video codecs in requirements', () => {
  it('matches codecs by family and names what is missing in words', () => {
    expect(codecFamily('avc1.64001f')).toBe('h264')
    expect(codecFamily('vp09.00.10.08')).toBe('vp9')
    expect(codecFamily('av01.0.04M.08')).toBe('av1')
    expect(codecFamily('mp4a.40.2')).toBeUndefined()
    const caps = { ...testCaps(), videoDecode: ['vp8', 'avc1.42001f'], videoEncode: ['vp8'] }
    const req = { runtime: 'wasm' as const, memoryPages: 1 }
    expect(unmetRequirements(caps, { ...req, video: { decode: 'avc1.640028', encode: 'vp8' } })).toEqual([])
    expect(unmetRequirements(caps, { ...req, video: { decode: 'vp09.00.10.08', encode: 'avc1.42001f' } }))
      .toEqual(['a VP9 video decoder', 'an H.264 video encoder'])
    expect(unmetRequirements({ ...caps, videoDecode: [], videoEncode: [] }, { ...req, video: { decode: 'vp8', encode: 'vp8' } }))
      .toEqual(['a VP8 video decoder', 'a VP8 video encoder'])
  })
})
