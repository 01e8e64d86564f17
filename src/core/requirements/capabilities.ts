import { asObject, readBool, readEnum, readInt, readNumber, readString, readStringArray } from '../protocol/validate.js'
import type { Obj } from '../protocol/validate.js'

export const PEER_KINDS = ['browser', 'node', 'mcu'] as const
export type PeerKind = typeof PEER_KINDS[number]

export const RUNTIMES = ['wasm', 'onnx'] as const
export type RuntimeKind = typeof RUNTIMES[number]

/** What a worker can do, as announced on the room heartbeat. */
export interface Capabilities {
  kind: PeerKind
  cores: number
  memoryMB: number
  /** Largest linear memory, in 64 KiB pages, one function may use here. */
  maxMemoryPages: number
  /** How many functions this worker runs at once. */
  slots: number
  wasmSimd: boolean
  wasmThreads: boolean
  webgpu: boolean
  videoDecode: string[]
  videoEncode: string[]
  runtimes: RuntimeKind[]
  /** 0..1 and whether charging; absent where the platform does not tell. */
  battery?: { level: number, charging: boolean }
  /** Hardware facts of a microcontroller peer, as its firmware reports them. */
  device?: DeviceInfo
  /** Largest task input or output this worker can carry (a board's serial frames); absent = no limit. */
  maxIoBytes?: number
  /**
   * A phone or tablet (the browser's mobile hint): its cores run slower than
   * a laptop's, which the scheduler assumes until it has measured it.
   */
  mobile?: boolean
}

export interface DeviceInfo {
  chip: string
  clockHz: number
  flashBytes: number
  ramBytes: number
  fpu: boolean
  dsp: boolean
}

export function readCapabilities (value: unknown, what = 'capabilities'): Capabilities {
  const o = asObject(value, what)
  const caps: Capabilities = {
    kind: readEnum(o, 'kind', what, PEER_KINDS),
    cores: readInt(o, 'cores', what, 1, 1024),
    memoryMB: readInt(o, 'memoryMB', what, 0, 1 << 24),
    maxMemoryPages: readInt(o, 'maxMemoryPages', what, 1, 65536),
    slots: readInt(o, 'slots', what, 1, 256),
    wasmSimd: readBool(o, 'wasmSimd', what),
    wasmThreads: readBool(o, 'wasmThreads', what),
    webgpu: readBool(o, 'webgpu', what),
    videoDecode: readStringArray(o, 'videoDecode', what, 16, 64),
    videoEncode: readStringArray(o, 'videoEncode', what, 16, 64),
    runtimes: readStringArray(o, 'runtimes', what, 8, 16).filter((r): r is RuntimeKind => (RUNTIMES as readonly string[]).includes(r))
  }
  if (o.battery != null) {
    const b: Obj = asObject(o.battery, `${what}.battery`)
    caps.battery = { level: readNumber(b, 'level', `${what}.battery`, 0, 1), charging: readBool(b, 'charging', `${what}.battery`) }
  }
  if (o.mobile != null) caps.mobile = readBool(o, 'mobile', what)
  if (o.maxIoBytes != null) caps.maxIoBytes = readInt(o, 'maxIoBytes', what, 0, 2 ** 40)
  if (o.device != null) {
    const d: Obj = asObject(o.device, `${what}.device`)
    caps.device = {
      chip: readString(d, 'chip', `${what}.device`, 64),
      clockHz: readInt(d, 'clockHz', `${what}.device`, 0, 2 ** 40),
      flashBytes: readInt(d, 'flashBytes', `${what}.device`, 0, 2 ** 40),
      ramBytes: readInt(d, 'ramBytes', `${what}.device`, 0, 2 ** 40),
      fpu: readBool(d, 'fpu', `${what}.device`),
      dsp: readBool(d, 'dsp', `${what}.device`)
    }
  }
  return caps
}
