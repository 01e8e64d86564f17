import { describe, expect, it } from 'vitest'
import { PEER_KINDS, RUNTIMES, readCapabilities } from './capabilities.js'
import { CAPABILITY_FLAGS, formatPages, satisfies, unmetRequirements } from './requirement.js'
import type { Capabilities } from './capabilities.js'
import { testCaps, thrown } from '../test-support.js'

const invalid = { name: 'InvalidMessageError', code: 'ERR_INVALID_MESSAGE' }

const caps = (over: Partial<Capabilities> = {}): Capabilities => testCaps({ slots: 2, ...over })

describe('readCapabilities', () => {
  it('accepts a full description, with and without battery', () => {
    const full = caps({ battery: { level: 0.25, charging: true }, videoDecode: ['avc1', 'vp9'], runtimes: ['wasm', 'onnx'] })
    expect(readCapabilities(full)).toEqual(full)
    expect(readCapabilities(caps())).toEqual(caps())
    expect(readCapabilities({ ...caps(), battery: null })).toEqual(caps())
    expect(readCapabilities(caps({ mobile: true }))).toEqual(caps({ mobile: true }))
    expect(PEER_KINDS).toEqual(['browser', 'node', 'mcu'])
    expect(RUNTIMES).toEqual(['wasm', 'onnx'])
  })

  it('drops unknown runtimes and keeps known ones', () => {
    expect(readCapabilities({ ...caps(), runtimes: ['webnn', 'onnx'] }).runtimes).toEqual(['onnx'])
  })

  it('refuses every field out of its type or range', () => {
    const wrong: Array<Record<string, unknown>> = [
      { kind: 'phone' }, { kind: undefined }, { cores: 0 }, { cores: 1025 }, { cores: 2.5 }, { memoryMB: -1 }, { memoryMB: (1 << 24) + 1 },
      { maxMemoryPages: 0 }, { maxMemoryPages: 65537 }, { slots: 0 }, { slots: 257 }, { wasmSimd: 1 }, { wasmThreads: 'yes' }, { webgpu: null },
      { videoDecode: 'avc1' }, { videoDecode: Array(17).fill('a') }, { videoEncode: ['x'.repeat(65)] }, { runtimes: Array(9).fill('wasm') },
      { runtimes: ['x'.repeat(17)] }, { runtimes: [1] }, { battery: { level: 1.1, charging: true } }, { battery: { level: -0.1, charging: true } },
      { battery: { level: 0.5 } }, { battery: 'full' }, { mobile: 'yes' }
    ]
    for (const w of wrong) {
      const v: Record<string, unknown> = { ...caps(), ...w }
      if ('kind' in w && w.kind === undefined) delete v.kind
      expect(thrown(() => readCapabilities(v)), JSON.stringify(w)).toMatchObject(invalid)
    }
    expect(thrown(() => readCapabilities([]))).toMatchObject(invalid)
    expect(thrown(() => readCapabilities(null))).toMatchObject(invalid)
  })

  it('names the field with the given prefix', () => {
    expect(thrown(() => readCapabilities({ ...caps(), cores: 0 }, 'beat.caps')).message).toContain('beat.caps.cores')
  })
})

describe('formatPages', () => {
  it('writes KiB below a MiB and MiB above', () => {
    expect(formatPages(1)).toBe('64 KiB')
    expect(formatPages(15)).toBe('960 KiB')
    expect(formatPages(16)).toBe('1 MiB')
    expect(formatPages(24)).toBe('1.5 MiB')
    expect(formatPages(8192)).toBe('512 MiB')
    expect(formatPages(65536)).toBe('4096 MiB')
  })
})

describe('unmetRequirements', () => {
  it('is empty for a fitting worker', () => {
    expect(unmetRequirements(caps(), { runtime: 'wasm', memoryPages: 16384 })).toEqual([])
    expect(satisfies(caps(), { runtime: 'wasm', memoryPages: 1 })).toBe(true)
    const all = caps({ wasmSimd: true, wasmThreads: true, webgpu: true, videoDecode: ['vp8'], videoEncode: ['vp8'], kind: 'node' })
    expect(unmetRequirements(all, { runtime: 'wasm', memoryPages: 1, capabilities: [...CAPABILITY_FLAGS], kinds: ['node'] })).toEqual([])
  })

  it('names a missing runtime', () => {
    expect(unmetRequirements(caps(), { runtime: 'onnx', memoryPages: 1 })).toEqual(['the onnx runtime'])
    expect(satisfies(caps(), { runtime: 'onnx', memoryPages: 1 })).toBe(false)
  })

  it('names missing memory in readable units', () => {
    expect(unmetRequirements(caps({ maxMemoryPages: 8191 }), { runtime: 'wasm', memoryPages: 8192 })).toEqual(['512 MiB of function memory'])
    expect(unmetRequirements(caps({ maxMemoryPages: 1 }), { runtime: 'wasm', memoryPages: 2 })).toEqual(['128 KiB of function memory'])
  })

  it('names each missing capability flag', () => {
    expect(unmetRequirements(caps(), { runtime: 'wasm', memoryPages: 1, capabilities: [...CAPABILITY_FLAGS] }))
      .toEqual(['WASM SIMD', 'WASM threads', 'WebGPU', 'a video decoder', 'a video encoder'])
    expect(unmetRequirements(caps({ videoDecode: ['avc1'] }), { runtime: 'wasm', memoryPages: 1, capabilities: ['videoDecode', 'videoEncode'] }))
      .toEqual(['a video encoder'])
  })

  it('names the allowed peer kinds', () => {
    expect(unmetRequirements(caps({ kind: 'mcu' }), { runtime: 'wasm', memoryPages: 1, kinds: ['browser', 'node'] })).toEqual(['a browser or node peer'])
    expect(unmetRequirements(caps(), { runtime: 'wasm', memoryPages: 1, kinds: ['node'] })).toEqual(['a node peer'])
  })

  it('lists several unmet requirements in a fixed order', () => {
    expect(unmetRequirements(caps({ kind: 'mcu', maxMemoryPages: 4 }), { runtime: 'onnx', memoryPages: 8192, capabilities: ['webgpu'], kinds: ['browser'] }))
      .toEqual(['the onnx runtime', '512 MiB of function memory', 'WebGPU', 'a browser peer'])
  })
})
