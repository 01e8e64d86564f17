import { InvalidMessageError, UnsupportedVersionError } from '../errors.js'

/**
 * Messages of the board's serial protocol v1 (docs/mcu-protocol.md). All
 * integers little-endian; payload = version, type, u16 request id, fields.
 */
export const MCU_PROTOCOL_VERSION = 1

export const HostType = {
  HELLO: 0x01, PING: 0x02, HAS_FUNCTION: 0x03, LOAD_BEGIN: 0x04, LOAD_CHUNK: 0x05, LOAD_END: 0x06, RUN: 0x07, CANCEL: 0x08
} as const

export const BoardType = {
  ACK: 0x80, CAPS: 0x81, PONG: 0x82, HAS: 0x83, PROGRESS: 0x88, RESULT: 0x89, ERROR: 0xff
} as const

export const BoardErrorCode = {
  BAD_FRAME: 1, TOO_LARGE: 2, BAD_VERSION: 3, UNKNOWN_TYPE: 4, BAD_FIELDS: 5, BUSY: 6, NO_MODULE: 7,
  LOAD_FAILED: 8, TRAP: 9, OUT_OF_FUEL: 10, CANCELLED: 11, NO_MEMORY: 12, BAD_ENTRY: 13,
  FUNCTION_ERROR: 14, OUTPUT_TOO_LARGE: 15, LOAD_STATE: 16, DIGEST: 17, NO_TASK: 18
} as const

export interface BoardCaps {
  abi: number
  clockHz: number
  flash: number
  ram: number
  fpu: boolean
  dsp: boolean
  softF64: boolean
  cyclesMeaningful: boolean
  arenaFree: number
  maxFrame: number
  maxModule: number
  maxTasks: number
  taskSlots: number
  moduleSlots: number
  maxPages: number
  chip: string
}

export type BoardMessage =
  | { type: 'ack', req: number, acked: number }
  | { type: 'caps', req: number, caps: BoardCaps }
  | { type: 'pong', req: number, bytes: Uint8Array }
  | { type: 'has', req: number, present: boolean }
  | { type: 'progress', req: number, instructions: bigint }
  | { type: 'result', req: number, instructions: bigint, cycles: number, output: Uint8Array }
  | { type: 'error', req: number, code: number, text: string }

/** Bounds-checked little-endian reader: a short or overlong message is an error, not garbage. */
class Reader {
  private off = 0
  private readonly view: DataView
  constructor (private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  private need (n: number): void {
    if (this.off + n > this.bytes.byteLength) throw new InvalidMessageError('board message is truncated')
  }

  u8 (): number { this.need(1); return this.view.getUint8(this.off++) }
  u16 (): number { this.need(2); const v = this.view.getUint16(this.off, true); this.off += 2; return v }
  u32 (): number { this.need(4); const v = this.view.getUint32(this.off, true); this.off += 4; return v }
  u64 (): bigint { this.need(8); const v = this.view.getBigUint64(this.off, true); this.off += 8; return v }
  bytesN (n: number): Uint8Array { this.need(n); const v = this.bytes.slice(this.off, this.off + n); this.off += n; return v }
  rest (): Uint8Array { return this.bytesN(this.bytes.byteLength - this.off) }
  str8 (): string { return new TextDecoder().decode(this.bytesN(this.u8())) }
  blob16 (): Uint8Array { return this.bytesN(this.u16()) }
  end (): void { if (this.off !== this.bytes.byteLength) throw new InvalidMessageError('board message has trailing bytes') }
}

export function decodeBoardMessage (payload: Uint8Array): BoardMessage {
  const r = new Reader(payload)
  const version = r.u8()
  if (version !== MCU_PROTOCOL_VERSION) throw new UnsupportedVersionError(`board speaks protocol ${version}; this bridge speaks ${MCU_PROTOCOL_VERSION}`)
  const type = r.u8()
  const req = r.u16()
  let msg: BoardMessage
  switch (type) {
    case BoardType.ACK: msg = { type: 'ack', req, acked: r.u8() }; break
    case BoardType.PONG: msg = { type: 'pong', req, bytes: r.rest() }; break
    case BoardType.HAS: msg = { type: 'has', req, present: r.u8() === 1 }; break
    case BoardType.PROGRESS: msg = { type: 'progress', req, instructions: r.u64() }; break
    case BoardType.RESULT: msg = { type: 'result', req, instructions: r.u64(), cycles: r.u32(), output: r.blob16() }; break
    case BoardType.ERROR: msg = { type: 'error', req, code: r.u8(), text: r.str8() }; break
    case BoardType.CAPS: {
      const abi = r.u8()
      const clockHz = r.u32()
      const flash = r.u32()
      const ram = r.u32()
      const flags = r.u8()
      msg = {
        type: 'caps',
        req,
        caps: {
          abi, clockHz, flash, ram,
          fpu: (flags & 1) !== 0, dsp: (flags & 2) !== 0, softF64: (flags & 4) !== 0, cyclesMeaningful: (flags & 8) !== 0,
          arenaFree: r.u32(), maxFrame: r.u16(), maxModule: r.u32(), maxTasks: r.u8(), taskSlots: r.u8(),
          moduleSlots: r.u8(), maxPages: r.u16(), chip: r.str8()
        }
      }
      break
    }
    default: throw new InvalidMessageError(`unknown board message type 0x${type.toString(16)}`)
  }
  r.end()
  return msg
}

class Writer {
  private readonly parts: number[] = []
  u8 (v: number): this { this.parts.push(v & 0xff); return this }
  u16 (v: number): this { return this.u8(v).u8(v >>> 8) }
  u32 (v: number): this { return this.u16(v & 0xffff).u16(v >>> 16) }
  u64 (v: bigint): this { return this.u32(Number(v & 0xffffffffn)).u32(Number(v >> 32n)) }
  bytes (b: Uint8Array): this { for (const x of b) this.parts.push(x); return this }
  str8 (s: string): this {
    const b = new TextEncoder().encode(s)
    if (b.byteLength > 255) throw new RangeError('str8 longer than 255 bytes')
    return this.u8(b.byteLength).bytes(b)
  }

  blob16 (b: Uint8Array): this {
    if (b.byteLength > 0xffff) throw new RangeError('blob16 longer than 65535 bytes')
    return this.u16(b.byteLength).bytes(b)
  }

  done (): Uint8Array { return Uint8Array.from(this.parts) }
}

function header (type: number, req: number): Writer {
  return new Writer().u8(MCU_PROTOCOL_VERSION).u8(type).u16(req)
}

function key32 (key: Uint8Array): Uint8Array {
  if (key.byteLength !== 32) throw new RangeError('a module key is the 32-byte SHA-256 digest')
  return key
}

export const encodeHost = {
  hello: (req: number) => header(HostType.HELLO, req).done(),
  ping: (req: number, bytes: Uint8Array = new Uint8Array(0)) => header(HostType.PING, req).bytes(bytes).done(),
  hasFunction: (req: number, key: Uint8Array) => header(HostType.HAS_FUNCTION, req).bytes(key32(key)).done(),
  loadBegin: (req: number, key: Uint8Array, size: number) => header(HostType.LOAD_BEGIN, req).bytes(key32(key)).u32(size).done(),
  loadChunk: (req: number, offset: number, bytes: Uint8Array) => header(HostType.LOAD_CHUNK, req).u32(offset).bytes(bytes).done(),
  loadEnd: (req: number, key: Uint8Array) => header(HostType.LOAD_END, req).bytes(key32(key)).done(),
  run: (req: number, key: Uint8Array, fuel: bigint, entry: string, input: Uint8Array, params: Uint8Array) =>
    header(HostType.RUN, req).bytes(key32(key)).u64(fuel).str8(entry).blob16(input).blob16(params).done(),
  cancel: (req: number, target: number) => header(HostType.CANCEL, req).u16(target).done()
}
