import { describe, expect, it } from 'vitest'
import { codecName, computingText, PALETTE, palette, peopleOf } from './people.js'
import type { Capabilities } from '../core/requirements/capabilities.js'
import type { PersonInput } from './people.js'

const caps: Capabilities = {
  kind: 'browser', cores: 8, memoryMB: 8192, maxMemoryPages: 4096, slots: 3, wasmSimd: true, wasmThreads: true, webgpu: false,
  videoDecode: ['vp8', 'vp09.00.10.08', 'avc1.42001f'], videoEncode: ['vp8'], runtimes: ['wasm']
}
const input = (over: Partial<PersonInput>): PersonInput => ({
  id: 'p1', name: 'Bo', caps, consent: true, load: { queued: 0, running: 0 }, self: false, verified: true, direct: true, ...over
})

describe('people', () => {
  it('shows names, not peer ids, you first, then by name', () => {
    const list = peopleOf([input({ id: 'c', name: 'Cy' }), input({ id: 'me', name: 'Ana', self: true }), input({ id: 'b', name: 'Bo' })])
    expect(list.map(p => p.name)).toEqual(['Ana', 'Bo', 'Cy'])
    expect(JSON.stringify(list.map(p => [p.name, p.kind, p.offers, p.battery, p.computing, p.link]))).not.toContain('"c"')
  })

  it('says what each device is and offers, in words', () => {
    const [p] = peopleOf([input({ caps: { ...caps, mobile: true, battery: { level: 0.42, charging: true } } })])
    expect(p.kind).toBe('Phone or tablet (browser)')
    expect(p.offers).toBe('3 slots · 8 cores · SIMD · decodes VP8, VP9, H.264 · encodes VP8')
    expect(p.battery).toBe('42 %, charging')
    expect(peopleOf([input({ caps: { ...caps, kind: 'mcu', device: { chip: 'STM32F405', clockHz: 1, flashBytes: 1, ramBytes: 1, fpu: true, dsp: true } } })])[0].kind).toBe('Board (STM32F405)')
    expect(peopleOf([input({ name: '' })])[0].name).toBe('Someone')
  })

  it('gives devices distinct colours, you first', () => {
    const list = peopleOf([input({ id: 'c', name: 'Cy' }), input({ id: 'me', name: 'Ana', self: true })], palette())
    expect(list.map(p => p.colour)).toEqual([PALETTE[0], PALETTE[1]])
  })

  it('load and link in words', () => {
    expect(computingText({ queued: 0, running: 0 })).toBe('idle')
    expect(computingText({ queued: 2, running: 1 })).toBe('1 task running, 2 queued')
    expect(peopleOf([input({ direct: false })])[0].link).toMatch(/^through the relay only/)
    expect(peopleOf([input({ verified: false })])[0].link).toBe('direct link, checking the room key…')
    expect(codecName('av01.0.04M.08')).toBe('AV1')
    expect(codecName('opus')).toBe('opus')
  })
})
