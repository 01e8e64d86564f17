import { InvalidMessageError, MessageTooLargeError } from '../errors.js'

/**
 * Framing of the board's serial protocol (docs/mcu-protocol.md):
 * wire frame = COBS(payload ‖ crc32le(payload)) ‖ 0x00.
 */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** CRC-32/IEEE, as zlib computes it. */
export function crc32 (bytes: Uint8Array): number {
  let c = 0xffffffff
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

export function cobsEncode (data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.byteLength + Math.ceil(data.byteLength / 254) + 1)
  let codeAt = 0
  let o = 1
  let code = 1
  for (const b of data) {
    if (b === 0) {
      out[codeAt] = code
      codeAt = o++
      code = 1
      continue
    }
    out[o++] = b
    code++
    if (code === 0xff) {
      out[codeAt] = code
      codeAt = o++
      code = 1
    }
  }
  out[codeAt] = code
  return out.subarray(0, o)
}

export function cobsDecode (data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.byteLength)
  let i = 0
  let o = 0
  while (i < data.byteLength) {
    const code = data[i++]
    if (code === 0) throw new InvalidMessageError('COBS frame holds a zero byte')
    const end = i + code - 1
    if (end > data.byteLength) throw new InvalidMessageError('COBS group runs past the end of the frame')
    for (; i < end; i++) {
      if (data[i] === 0) throw new InvalidMessageError('COBS frame holds a zero byte')
      out[o++] = data[i]
    }
    if (code !== 0xff && i < data.byteLength) out[o++] = 0
  }
  return out.subarray(0, o)
}

/** Payload → bytes on the wire, delimiter included. */
export function encodeFrame (payload: Uint8Array): Uint8Array {
  const withCrc = new Uint8Array(payload.byteLength + 4)
  withCrc.set(payload)
  new DataView(withCrc.buffer).setUint32(payload.byteLength, crc32(payload), true)
  const enc = cobsEncode(withCrc)
  const out = new Uint8Array(enc.byteLength + 1)
  out.set(enc)
  return out
}

/** One decoded frame's bytes (no delimiter) → payload; checks COBS and CRC. */
export function decodeFrame (frame: Uint8Array): Uint8Array {
  const raw = cobsDecode(frame)
  if (raw.byteLength < 4) throw new InvalidMessageError('frame is shorter than its CRC')
  const payload = raw.subarray(0, raw.byteLength - 4)
  const crc = new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getUint32(raw.byteLength - 4, true)
  if (crc !== crc32(payload)) throw new InvalidMessageError('frame CRC mismatch')
  return payload
}

/**
 * Splits a byte stream into frames at 0x00. Frames longer than `maxWireBytes`
 * are dropped up to the next delimiter and reported, so a noisy line cannot
 * make the reader buffer without bound.
 */
export class FrameSplitter {
  private buf: number[] = []
  private overflow = false

  constructor (private readonly maxWireBytes: number) {}

  push (chunk: Uint8Array, onFrame: (frame: Uint8Array) => void, onError: (err: Error) => void): void {
    for (const b of chunk) {
      if (b === 0) {
        if (this.overflow) onError(new MessageTooLargeError(`frame over ${this.maxWireBytes} bytes dropped`))
        else if (this.buf.length > 0) onFrame(Uint8Array.from(this.buf))
        this.buf = []
        this.overflow = false
        continue
      }
      if (this.overflow) continue
      if (this.buf.length >= this.maxWireBytes) {
        this.overflow = true
        this.buf = []
        continue
      }
      this.buf.push(b)
    }
  }
}
