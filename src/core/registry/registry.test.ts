import { describe, expect, it } from 'vitest'
import { DEFAULT_BEAT_INTERVAL_MS, MISSED_BEATS_TO_DIE, Registry } from './registry.js'
import type { Beat } from '../protocol/room.js'
import type { RegistryChange } from './registry.js'

const beat = (id: string, seq: number, over: Partial<Beat> = {}): Beat => ({
  v: 1,
  t: 'beat',
  id,
  seq,
  addrs: [],
  caps: { kind: 'browser', cores: 4, memoryMB: 4096, maxMemoryPages: 4096, slots: 2, wasmSimd: true, wasmThreads: false, webgpu: false, videoDecode: [], videoEncode: [], runtimes: ['wasm'] },
  consent: true,
  load: { queued: 0, running: 0 },
  cache: [],
  name: id,
  ...over
})

function recorded (reg: Registry): RegistryChange[] {
  const changes: RegistryChange[] = []
  reg.subscribe(c => { changes.push(c) })
  return changes
}

describe('Registry', () => {
  it('defaults to a two-second beat and three missed beats', () => {
    expect(new Registry().beatIntervalMs).toBe(DEFAULT_BEAT_INTERVAL_MS)
    expect(DEFAULT_BEAT_INTERVAL_MS).toBe(2000)
    expect(MISSED_BEATS_TO_DIE).toBe(3)
  })

  it('emits joined, then updated, and keeps the latest beat', () => {
    const reg = new Registry()
    const changes = recorded(reg)
    reg.applyBeat(beat('a', 0), 100)
    reg.applyBeat(beat('a', 1, { name: 'renamed' }), 200)
    reg.applyBeat(beat('b', 5), 250)
    expect(changes).toEqual([{ type: 'joined', id: 'a' }, { type: 'updated', id: 'a' }, { type: 'joined', id: 'b' }])
    expect(reg.get('a')).toMatchObject({ id: 'a', lastSeen: 200, verified: false, beat: { seq: 1, name: 'renamed' } })
    expect(reg.size).toBe(2)
    expect(reg.has('b')).toBe(true)
    expect(reg.has('c')).toBe(false)
    expect(reg.get('c')).toBeUndefined()
    expect(reg.list().map(e => e.id)).toEqual(['a', 'b'])
  })

  it('ignores a stale (lower seq) beat: no event, no refresh of lastSeen', () => {
    const reg = new Registry()
    reg.applyBeat(beat('a', 5, { name: 'new' }), 100)
    const changes = recorded(reg)
    reg.applyBeat(beat('a', 4, { name: 'old' }), 200)
    expect(changes).toEqual([])
    expect(reg.get('a')).toMatchObject({ lastSeen: 100, beat: { seq: 5, name: 'new' } })
  })

  it('expires an entry only after MISSED_BEATS_TO_DIE × interval without a beat', () => {
    const interval = 500
    const reg = new Registry({ beatIntervalMs: interval })
    const changes = recorded(reg)
    reg.applyBeat(beat('a', 0), 10_000)
    reg.applyBeat(beat('b', 0), 10_000)
    reg.applyBeat(beat('b', 1), 10_400)
    const limit = 10_000 + MISSED_BEATS_TO_DIE * interval
    expect(reg.expire(limit)).toEqual([]) // exactly at the limit: still alive
    expect(reg.has('a')).toBe(true)
    expect(reg.expire(limit + 1)).toEqual(['a'])
    expect(reg.has('a')).toBe(false)
    expect(reg.has('b')).toBe(true)
    expect(reg.expire(10_400 + MISSED_BEATS_TO_DIE * interval + 1)).toEqual(['b'])
    expect(changes.filter(c => c.type === 'left')).toEqual([
      { type: 'left', id: 'a', reason: 'expired' },
      { type: 'left', id: 'b', reason: 'expired' }
    ])
    expect(reg.size).toBe(0)
    expect(reg.expire(1e12)).toEqual([])
  })

  it('a fresh beat keeps an entry alive', () => {
    const reg = new Registry({ beatIntervalMs: 1000 })
    for (let t = 0, seq = 0; t <= 20_000; t += 1000, seq++) {
      reg.applyBeat(beat('a', seq), t)
      expect(reg.expire(t + 2999)).toEqual([])
    }
    expect(reg.has('a')).toBe(true)
  })

  it('a peer that comes back after expiring joins again', () => {
    const reg = new Registry({ beatIntervalMs: 100 })
    reg.applyBeat(beat('a', 3), 0)
    reg.expire(1000)
    const changes = recorded(reg)
    reg.applyBeat(beat('a', 0), 1000)
    expect(changes).toEqual([{ type: 'joined', id: 'a' }])
  })

  it('remove names the reason and is silent for an unknown id', () => {
    const reg = new Registry()
    reg.applyBeat(beat('a', 0), 0)
    reg.applyBeat(beat('b', 0), 0)
    const changes = recorded(reg)
    reg.remove('a', 'bye')
    reg.remove('b', 'disconnected')
    reg.remove('b', 'disconnected')
    reg.remove('zzz', 'bye')
    expect(changes).toEqual([{ type: 'left', id: 'a', reason: 'bye' }, { type: 'left', id: 'b', reason: 'disconnected' }])
    expect(reg.size).toBe(0)
  })

  it('markVerified emits once, survives later beats, and ignores unknown ids', () => {
    const reg = new Registry()
    reg.applyBeat(beat('a', 0), 0)
    const changes = recorded(reg)
    reg.markVerified('a')
    reg.markVerified('a')
    reg.markVerified('nobody')
    expect(changes).toEqual([{ type: 'updated', id: 'a' }])
    expect(reg.get('a')?.verified).toBe(true)
    reg.applyBeat(beat('a', 1), 10)
    expect(reg.get('a')?.verified).toBe(true)
    // after leaving, a new entry must prove itself again
    reg.remove('a', 'disconnected')
    reg.applyBeat(beat('a', 2), 20)
    expect(reg.get('a')?.verified).toBe(false)
  })

  it('unsubscribe stops events', () => {
    const reg = new Registry()
    const seen: string[] = []
    const off = reg.subscribe(c => { seen.push(c.type) })
    reg.applyBeat(beat('a', 0), 0)
    off()
    reg.applyBeat(beat('a', 1), 1)
    expect(seen).toEqual(['joined'])
  })
})
