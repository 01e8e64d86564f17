import { describe, expect, it } from 'vitest'
import { FedraError } from '../errors.js'
import { decodeRecords } from '../mapreduce/records.js'
import { encodeMessage } from './codec.js'
import { decodeRoomMessage, encodeRoomMessage } from './room.js'
import { decodeFromWorker, decodeToWorker, encodeTaskMessage } from './task.js'
import type { Beat } from './room.js'
import type { FromWorker, ToWorker } from './task.js'
import { prng } from '../test-support.js'

const bytes = (n: number): Uint8Array => new Uint8Array(n).fill(3)
const beat: Beat = {
  v: 1,
  t: 'beat',
  id: 'peer-a',
  seq: 1,
  addrs: ['/webrtc'],
  caps: { kind: 'node', cores: 2, memoryMB: 1024, maxMemoryPages: 1024, slots: 2, wasmSimd: true, wasmThreads: true, webgpu: false, videoDecode: [], videoEncode: ['vp8'], runtimes: ['wasm'], battery: { level: 1, charging: true } },
  consent: true,
  load: { queued: 0, running: 0 },
  cache: ['c1', 'c2'],
  name: 'n'
}
const toWorker: ToWorker[] = [
  { v: 1, t: 'task', id: 'a', job: 'j', epoch: 1, fn: { cid: 'f', bytes: bytes(20) }, entry: 'e', input: { bytes: bytes(9) }, params: bytes(8), limits: { memoryPages: 2, timeoutMs: 10 }, output: 'store' },
  { v: 1, t: 'cancel', id: 'a' },
  { v: 1, t: 'task', id: 'b', job: 'j', epoch: 1, fn: { cid: 'f' }, entry: 'e', input: { cid: 'in' }, params: bytes(0), limits: { memoryPages: 2, timeoutMs: 10 }, output: 'inline', range: { from: 2, to: 9 }, partial: true },
  { v: 1, t: 'cut', id: 'b', at: 5 },
  { v: 1, t: 'hello', nonce: bytes(32), proof: bytes(32) },
  { v: 1, t: 'proof', proof: bytes(32) }
]
const fromWorker: FromWorker[] = [
  { v: 1, t: 'progress', id: 'a', done: 1, total: 2 },
  { v: 1, t: 'result', id: 'a', output: { cid: 'out' }, ms: 3.5 },
  { v: 1, t: 'progress', id: 'b', done: 4, total: 9, from: 2, outputs: bytes(12) },
  { v: 1, t: 'result', id: 'b', output: { bytes: bytes(8) }, ms: 1, from: 4, to: 5 },
  { v: 1, t: 'error', id: 'a', code: 'ERR_X', message: 'm' },
  { v: 1, t: 'welcome' }
]
const seeds: Uint8Array[] = [
  ...toWorker.map(m => encodeTaskMessage(m)),
  ...fromWorker.map(m => encodeTaskMessage(m)),
  encodeRoomMessage(beat),
  encodeRoomMessage({ v: 1, t: 'bye', id: 'peer-a' })
]

const decoders: Array<(b: Uint8Array) => unknown> = [
  b => decodeToWorker(b),
  b => decodeFromWorker(b),
  b => decodeRoomMessage(b),
  b => decodeToWorker(b, { maxBytes: 64 })
]

/** Either a value or a FedraError: any other throw is a bug in a decoder. */
function decodesOrFedraError (decode: (b: Uint8Array) => unknown, input: Uint8Array): 'ok' | 'error' {
  try {
    decode(input)
    return 'ok'
  } catch (err) {
    if (!(err instanceof FedraError)) {
      throw new Error(`non-Fedra error ${(err as Error)?.name} for input ${Buffer.from(input).toString('hex')}`, { cause: err })
    }
    return 'error'
  }
}

const interesting = [0x00, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x40, 0x5f, 0x60, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xd8, 0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfa, 0xfb, 0xff]

function mutate (rand: () => number, input: Uint8Array): Uint8Array {
  const out = [...input]
  const edits = 1 + Math.floor(rand() * 4)
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * (out.length + 1))
    switch (Math.floor(rand() * 6)) {
      case 0: if (out.length > 0) out[Math.min(at, out.length - 1)] ^= 1 << Math.floor(rand() * 8); break
      case 1: out.splice(at, 0, Math.floor(rand() * 256)); break
      case 2: out.splice(at, 1 + Math.floor(rand() * 8)); break
      case 3: if (out.length > 0) out[Math.min(at, out.length - 1)] = interesting[Math.floor(rand() * interesting.length)]; break
      case 4: out.length = Math.floor(rand() * out.length); break
      default: out.splice(at, 0, ...out.slice(0, Math.floor(rand() * 16)))
    }
  }
  return new Uint8Array(out)
}

/** Random JSON-ish values, including ones no valid message holds. */
function randomValue (rand: () => number, depth = 0): unknown {
  const pick = Math.floor(rand() * (depth > 2 ? 8 : 11))
  switch (pick) {
    case 0: return Math.floor(rand() * 2 ** 31) - 2 ** 30
    case 1: return rand() * 1e6
    case 2: return [Number.NaN, Infinity, -Infinity, -0, Number.MAX_SAFE_INTEGER, -1][Math.floor(rand() * 6)]
    case 3: return 'x'.repeat(Math.floor(rand() * 300))
    case 4: return rand() < 0.5
    case 5: return null
    case 6: return new Uint8Array(Math.floor(rand() * 100))
    case 7: return ['task', 'result', 'hello', 'beat', 'bye', 'welcome', ''][Math.floor(rand() * 7)]
    case 8: return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1))
    default: {
      const o: Record<string, unknown> = {}
      for (let i = Math.floor(rand() * 4); i > 0; i--) o[['v', 't', 'id', 'cid', 'bytes', 'nonce', 'caps'][Math.floor(rand() * 7)]] = randomValue(rand, depth + 1)
      return o
    }
  }
}

/** Replaces one field somewhere inside a message with a random value. */
function mutateValue (rand: () => number, value: unknown): unknown {
  if (value == null || typeof value !== 'object' || value instanceof Uint8Array) return randomValue(rand)
  const copy: Record<string, unknown> = Array.isArray(value) ? [...value] as unknown as Record<string, unknown> : { ...value as Record<string, unknown> }
  const keys = Object.keys(copy)
  if (keys.length === 0 || rand() < 0.2) {
    copy[['v', 't', 'id', 'x'][Math.floor(rand() * 4)]] = randomValue(rand)
    return copy
  }
  const k = keys[Math.floor(rand() * keys.length)]
  if (rand() < 0.15) delete copy[k]
  else copy[k] = rand() < 0.5 ? mutateValue(rand, copy[k]) : randomValue(rand)
  return copy
}

describe('decoder fuzzing (fixed seed)', () => {
  it('mutated and random bytes decode or throw a FedraError', () => {
    const rand = prng(0xfed5a)
    const outcomes = { ok: 0, error: 0 }
    for (let i = 0; i < 2000; i++) {
      const input = i % 5 === 4
        ? new Uint8Array(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)))
        : mutate(rand, seeds[Math.floor(rand() * seeds.length)])
      for (const decode of decoders) outcomes[decodesOrFedraError(decode, input)]++
    }
    // the fuzzer must exercise both paths, or it tests nothing
    expect(outcomes.error).toBeGreaterThan(1000)
    expect(outcomes.ok).toBeGreaterThan(0)
  })

  it('structurally mutated messages decode or throw a FedraError, and what decodes re-encodes stably', () => {
    const rand = prng(42)
    const values = [...toWorker, ...fromWorker, beat, { v: 1, t: 'bye', id: 'p' }]
    let ok = 0
    for (let i = 0; i < 2000; i++) {
      const input = encodeMessage(mutateValue(rand, values[Math.floor(rand() * values.length)]))
      for (const decode of decoders) {
        if (decodesOrFedraError(decode, input) === 'ok') {
          ok++
          const once = decode(input)
          const again = decode(encodeMessage(once))
          expect(again).toEqual(once)
        }
      }
    }
    expect(ok).toBeGreaterThan(100)
  })

  it('record streams decode or throw InvalidMessageError', () => {
    const rand = prng(7)
    for (let i = 0; i < 2000; i++) {
      const input = new Uint8Array(Array.from({ length: Math.floor(rand() * 40) }, () => rand() < 0.7 ? Math.floor(rand() * 6) : Math.floor(rand() * 256)))
      try {
        decodeRecords(input)
      } catch (err) {
        expect(err).toMatchObject({ name: 'InvalidMessageError' })
      }
    }
  })
})
