import { describe, expect, it } from 'vitest'
import { encodeMessage } from './codec.js'
import { MAX_CACHE_ENTRIES, MAX_ROOM_MESSAGE_BYTES, ROOM_PROTOCOL_VERSION, decodeRoomMessage, encodeRoomMessage, readRoomMessage } from './room.js'
import type { Beat, RoomMessage } from './room.js'
import { thrown } from '../test-support.js'

const invalid = { name: 'InvalidMessageError', code: 'ERR_INVALID_MESSAGE' }
const tooLarge = { name: 'MessageTooLargeError', code: 'ERR_MESSAGE_TOO_LARGE' }
const badVersion = { name: 'UnsupportedVersionError', code: 'ERR_UNSUPPORTED_VERSION' }

const beat = (over: Partial<Beat> = {}): Beat => ({
  v: 1,
  t: 'beat',
  id: '12D3KooWpeer',
  seq: 7,
  addrs: ['/ip4/127.0.0.1/tcp/1/ws/p2p/relay/p2p-circuit/webrtc'],
  caps: {
    kind: 'browser',
    cores: 8,
    memoryMB: 8192,
    maxMemoryPages: 16384,
    slots: 4,
    wasmSimd: true,
    wasmThreads: false,
    webgpu: true,
    videoDecode: ['avc1'],
    videoEncode: [],
    runtimes: ['wasm', 'onnx'],
    battery: { level: 0.5, charging: false }
  },
  consent: true,
  load: { queued: 1, running: 2 },
  cache: ['bafkreifn'],
  name: 'Tab on a laptop',
  ...over
})

const raw = (value: unknown): RoomMessage => decodeRoomMessage(encodeMessage(value))

describe('room messages', () => {
  it('version 1', () => {
    expect(ROOM_PROTOCOL_VERSION).toBe(1)
  })

  it('round-trips a beat, a beat without battery and a bye', () => {
    const noBattery = beat()
    delete noBattery.caps.battery
    const msgs: RoomMessage[] = [beat(), noBattery, beat({ addrs: [], cache: [], name: '', seq: 0 }), { v: 1, t: 'bye', id: 'p' }]
    for (const m of msgs) {
      const decoded = decodeRoomMessage(encodeRoomMessage(m))
      expect(decoded).toEqual(m)
      expect(encodeRoomMessage(decoded)).toEqual(encodeRoomMessage(m))
    }
  })

  it('readRoomMessage works on an already decoded value', () => {
    expect(readRoomMessage({ v: 1, t: 'bye', id: 'x' })).toEqual({ v: 1, t: 'bye', id: 'x' })
  })

  it('unknown runtimes are dropped, not refused (forward compatible)', () => {
    const m = raw({ ...beat(), caps: { ...beat().caps, runtimes: ['wasm', 'cuda'] } }) as Beat
    expect(m.caps.runtimes).toEqual(['wasm'])
  })

  it('refuses messages over 64 KiB', () => {
    const big = encodeRoomMessage(beat({ name: '' }))
    const padded = new Uint8Array(MAX_ROOM_MESSAGE_BYTES + 1)
    padded.set(big)
    expect(thrown(() => decodeRoomMessage(padded))).toMatchObject(tooLarge)
  })

  it('refuses another version, a missing version and unknown types', () => {
    expect(thrown(() => raw({ ...beat(), v: 2 }))).toMatchObject(badVersion)
    expect(thrown(() => raw({ t: 'bye', id: 'x' }))).toMatchObject(invalid)
    expect(thrown(() => raw({ v: 1, t: 'hello', id: 'x' }))).toMatchObject(invalid)
    expect(thrown(() => raw({ v: 1, id: 'x' }))).toMatchObject(invalid)
    expect(thrown(() => raw(['beat']))).toMatchObject(invalid)
  })

  it('refuses malformed CBOR and trailing bytes', () => {
    const good = encodeRoomMessage({ v: 1, t: 'bye', id: 'p' })
    expect(thrown(() => decodeRoomMessage(new Uint8Array([...good, 0xf6])))).toMatchObject(invalid)
    expect(thrown(() => decodeRoomMessage(good.subarray(1)))).toMatchObject(invalid)
  })

  it('refuses missing and wrong-typed fields', () => {
    for (const k of ['id', 'seq', 'addrs', 'caps', 'consent', 'load', 'cache', 'name']) {
      const m: Record<string, unknown> = { ...beat() }
      delete m[k]
      expect(thrown(() => raw(m)), k).toMatchObject(invalid)
    }
    const wrong: Array<Record<string, unknown>> = [
      { id: 1 }, { seq: '1' }, { addrs: 'a' }, { addrs: [1] }, { caps: [] }, { consent: 1 }, { load: [1, 2] },
      { load: { queued: 1 } }, { load: { queued: '1', running: 0 } }, { cache: {} }, { name: null }
    ]
    for (const w of wrong) expect(thrown(() => raw({ ...beat(), ...w })), JSON.stringify(w)).toMatchObject(invalid)
    expect(thrown(() => raw({ v: 1, t: 'bye' }))).toMatchObject(invalid)
    expect(thrown(() => raw({ v: 1, t: 'bye', id: 5 }))).toMatchObject(invalid)
  })

  it('refuses out-of-range numbers', () => {
    const wrong: Array<Record<string, unknown>> = [
      { seq: -1 }, { seq: 0.5 }, { load: { queued: -1, running: 0 } }, { load: { queued: 0, running: 1_000_001 } }
    ]
    for (const w of wrong) expect(thrown(() => raw({ ...beat(), ...w })), JSON.stringify(w)).toMatchObject(invalid)
    expect((raw(beat({ load: { queued: 1_000_000, running: 0 } })) as Beat).load.queued).toBe(1_000_000)
  })

  it('enforces string and list limits', () => {
    const at = (n: number): string => 'x'.repeat(n)
    expect(raw(beat({ id: at(128), name: at(64), addrs: Array(32).fill(at(512)), cache: Array(MAX_CACHE_ENTRIES).fill(at(128)) })).t).toBe('beat')
    const wrong: Array<Partial<Beat>> = [
      { id: at(129) }, { name: at(65) }, { addrs: Array(33).fill('a') }, { addrs: [at(513)] },
      { cache: Array(MAX_CACHE_ENTRIES + 1).fill('c') }, { cache: [at(129)] }
    ]
    for (const w of wrong) expect(thrown(() => raw(beat(w))), Object.keys(w)[0]).toMatchObject(invalid)
    expect(thrown(() => raw({ v: 1, t: 'bye', id: at(129) }))).toMatchObject(invalid)
  })

  it('validates capabilities inside a beat', () => {
    const caps = beat().caps
    expect(thrown(() => raw({ ...beat(), caps: { ...caps, cores: 0 } }))).toMatchObject(invalid)
    expect(thrown(() => raw({ ...beat(), caps: { ...caps, kind: 'phone' } }))).toMatchObject(invalid)
    expect(thrown(() => raw({ ...beat(), caps: { ...caps, battery: { level: 2, charging: true } } }))).toMatchObject(invalid)
  })
})

describe('filters shared on the heartbeat', () => {
  const sepia = { cid: 'bafkreisepia', title: 'my-sepia', entry: 'sepia' }

  it('round-trips the shared filters, and a beat without them', () => {
    expect(raw(beat({ filters: [sepia] }))).toEqual(beat({ filters: [sepia] }))
    expect('filters' in raw(beat())).toBe(false)
  })

  it('refuses malformed or oversized lists with the field named', () => {
    expect(thrown(() => raw({ ...beat(), filters: 'x' }))).toMatchObject(invalid)
    expect(thrown(() => raw({ ...beat(), filters: Array(17).fill(sepia) }))).toMatchObject(invalid)
    expect(thrown(() => raw({ ...beat(), filters: [{ ...sepia, title: 'x'.repeat(41) }] }))).toMatchObject(invalid)
    expect(thrown(() => raw({ ...beat(), filters: [{ cid: 'bafk', title: 't' }] }))).toMatchObject(invalid)
  })
})
