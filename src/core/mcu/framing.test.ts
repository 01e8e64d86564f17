import { describe, expect, it } from 'vitest'
import { FrameSplitter, cobsDecode, cobsEncode, crc32, decodeFrame, encodeFrame } from './framing.js'
import { BoardType, decodeBoardMessage, encodeHost, MCU_PROTOCOL_VERSION } from './messages.js'
import { prng } from '../test-support.js'

describe('board framing', () => {
  it('computes CRC-32/IEEE', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926)
    expect(crc32(new Uint8Array(0))).toBe(0)
  })

  it('COBS-encodes the textbook vectors', () => {
    expect([...cobsEncode(Uint8Array.from([0]))]).toEqual([1, 1])
    expect([...cobsEncode(Uint8Array.from([0, 0]))]).toEqual([1, 1, 1])
    expect([...cobsEncode(Uint8Array.from([0x11, 0x22, 0, 0x33]))]).toEqual([3, 0x11, 0x22, 2, 0x33])
    expect([...cobsEncode(Uint8Array.from([0x11, 0, 0, 0]))]).toEqual([2, 0x11, 1, 1, 1])
    const run = Uint8Array.from({ length: 254 }, (_, i) => i + 1)
    const enc = cobsEncode(run)
    expect(enc[0]).toBe(0xff)
    expect([...cobsDecode(enc)]).toEqual([...run])
  })

  it('round-trips random payloads and never puts a zero inside a frame', () => {
    const rnd = prng(7)
    for (let n = 0; n < 500; n++) {
      const len = Math.floor(rnd() * 1200)
      const payload = Uint8Array.from({ length: len }, () => rnd() < 0.2 ? 0 : Math.floor(rnd() * 256))
      const wire = encodeFrame(payload)
      expect(wire[wire.length - 1]).toBe(0)
      expect(wire.subarray(0, -1).includes(0)).toBe(false)
      expect([...decodeFrame(wire.subarray(0, -1))]).toEqual([...payload])
    }
  })

  it('rejects corrupted frames with InvalidMessageError, never anything else', () => {
    const rnd = prng(11)
    const wire = encodeFrame(encodeHost.ping(5, Uint8Array.from([1, 2, 3, 0, 4])))
    const body = wire.subarray(0, -1)
    for (let n = 0; n < 2000; n++) {
      const bad = body.slice()
      const flips = 1 + Math.floor(rnd() * 3)
      for (let f = 0; f < flips; f++) bad[Math.floor(rnd() * bad.length)] = Math.floor(rnd() * 256)
      try {
        decodeFrame(bad)
      } catch (err) {
        expect((err as Error).name).toBe('InvalidMessageError')
      }
    }
    expect(() => decodeFrame(Uint8Array.from([5, 1]))).toThrow(/past the end/)
  })

  it('splits a stream into frames and drops oversized ones up to the next delimiter', () => {
    const frames: Uint8Array[] = []
    const errors: string[] = []
    const splitter = new FrameSplitter(16)
    const a = encodeFrame(Uint8Array.from([1, 2, 3]))
    const big = new Uint8Array(40).fill(9)
    const b = encodeFrame(Uint8Array.from([4]))
    const stream = new Uint8Array([0, ...a, ...big, 0, ...b])
    // fed in awkward pieces, as a UART delivers it
    for (let i = 0; i < stream.length; i += 3) {
      splitter.push(stream.subarray(i, i + 3), f => frames.push(f), e => errors.push(e.name))
    }
    expect(frames.map(f => [...decodeFrame(f)])).toEqual([[1, 2, 3], [4]])
    expect(errors).toEqual(['MessageTooLargeError'])
  })
})

describe('board messages', () => {
  const caps = (): Uint8Array => {
    const chip = new TextEncoder().encode('STM32F4')
    const b = new Uint8Array(4 + 1 + 4 + 4 + 4 + 1 + 4 + 2 + 4 + 1 + 1 + 1 + 2 + 1 + chip.length)
    const v = new DataView(b.buffer)
    let o = 0
    b[o++] = MCU_PROTOCOL_VERSION; b[o++] = BoardType.CAPS; v.setUint16(o, 1, true); o += 2
    b[o++] = 1; v.setUint32(o, 16_000_000, true); o += 4; v.setUint32(o, 1 << 20, true); o += 4; v.setUint32(o, 192 << 10, true); o += 4
    b[o++] = 0b1011; v.setUint32(o, 70_000, true); o += 4; v.setUint16(o, 1024, true); o += 2; v.setUint32(o, 6144, true); o += 4
    b[o++] = 4; b[o++] = 2; b[o++] = 3; v.setUint16(o, 1, true); o += 2; b[o++] = chip.length; b.set(chip, o)
    return b
  }

  it('decodes CAPS', () => {
    const m = decodeBoardMessage(caps())
    expect(m).toMatchObject({ type: 'caps', req: 1, caps: { abi: 1, clockHz: 16_000_000, fpu: true, dsp: true, softF64: false, cyclesMeaningful: true, maxFrame: 1024, maxTasks: 4, taskSlots: 2, maxPages: 1, chip: 'STM32F4' } })
  })

  it('rejects truncated, overlong, unknown and wrong-version messages', () => {
    const good = caps()
    expect(() => decodeBoardMessage(good.subarray(0, good.length - 1))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    expect(() => decodeBoardMessage(Uint8Array.from([...good, 0]))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    expect(() => decodeBoardMessage(Uint8Array.from([1, 0x42, 0, 0]))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    expect(() => decodeBoardMessage(Uint8Array.from([2, 0x80, 0, 0, 1]))).toThrow(expect.objectContaining({ name: 'UnsupportedVersionError' }))
  })

  it('encodes RUN as the protocol lays it out', () => {
    const key = new Uint8Array(32).fill(0xab)
    const p = encodeHost.run(0x1234, key, 1000n, 'run', Uint8Array.from([7, 8]), Uint8Array.from([9]))
    expect([...p.subarray(0, 4)]).toEqual([1, 0x07, 0x34, 0x12])
    expect([...p.subarray(4, 36)]).toEqual([...key])
    expect(new DataView(p.buffer).getBigUint64(36, true)).toBe(1000n)
    expect([...p.subarray(44)]).toEqual([3, 114, 117, 110, 2, 0, 7, 8, 1, 0, 9])
    expect(() => encodeHost.run(1, new Uint8Array(31), 0n, 'x', new Uint8Array(0), new Uint8Array(0))).toThrow(RangeError)
  })
})
