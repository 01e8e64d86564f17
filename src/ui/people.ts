/**
 * The room's people as the app shows them: display names from heartbeats,
 * never peer ids; what each device is and offers, in words. Pure: the Room
 * screen and its unit tests feed it plain objects.
 */
import type { Capabilities } from '../core/requirements/capabilities.js'

export interface PersonInput {
  id: string
  name: string
  caps: Capabilities
  consent: boolean
  load: { queued: number, running: number }
  self: boolean
  verified: boolean
  direct: boolean
}

export interface Person {
  id: string
  name: string
  self: boolean
  kind: string
  offers: string
  battery: string
  volunteers: boolean
  computing: string
  link: string
  colour: string
}

/** Okabe–Ito: colours told apart with every common colour-vision deficiency. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#7f7f7f']

/**
 * A colour per device for this page's life, in the order devices are first
 * seen (you first): the people list, the job strip and its legend, and the
 * examples' tile outlines agree. Past the palette, a hue from the id.
 */
export function palette (): (peerId: string) => string {
  const given = new Map<string, string>()
  return (peerId) => {
    let c = given.get(peerId)
    if (c == null) {
      if (given.size < PALETTE.length) c = PALETTE[given.size]
      else {
        let h = 0
        for (const ch of peerId) h = (h * 31 + ch.charCodeAt(0)) >>> 0
        c = `hsl(${h % 360} 70% 45%)`
      }
      given.set(peerId, c)
    }
    return c
  }
}

export const colourOf = palette()

export function kindLabel (caps: Capabilities): string {
  if (caps.kind === 'mcu') return `Board${caps.device?.chip != null ? ` (${caps.device.chip})` : ''}`
  if (caps.kind === 'node') return 'Computer (Node)'
  return caps.mobile === true ? 'Phone or tablet (browser)' : 'Computer (browser)'
}

const CODEC_NAMES: Array<[string, string]> = [['vp8', 'VP8'], ['vp09', 'VP9'], ['vp9', 'VP9'], ['avc1', 'H.264'], ['av01', 'AV1'], ['hev1', 'HEVC'], ['hvc1', 'HEVC']]

/** 'vp09.00.10.08' → 'VP9'; unknown codec strings pass through. */
export function codecName (codec: string): string {
  return CODEC_NAMES.find(([p]) => codec.startsWith(p))?.[1] ?? codec
}

export function offersText (caps: Capabilities): string {
  const parts = [`${caps.slots} slot${caps.slots === 1 ? '' : 's'}`, `${caps.cores} core${caps.cores === 1 ? '' : 's'}`]
  if (caps.wasmSimd) parts.push('SIMD')
  if (caps.webgpu) parts.push('WebGPU')
  const dec = [...new Set(caps.videoDecode.map(codecName))]
  const enc = [...new Set(caps.videoEncode.map(codecName))]
  if (dec.length > 0) parts.push(`decodes ${dec.join(', ')}`)
  if (enc.length > 0) parts.push(`encodes ${enc.join(', ')}`)
  if (caps.runtimes.includes('onnx')) parts.push('ML models')
  return parts.join(' · ')
}

export function batteryText (caps: Capabilities): string {
  if (caps.battery == null) return 'no battery reported'
  const pct = Math.round(caps.battery.level * 100)
  return `${pct} %${caps.battery.charging ? ', charging' : ''}`
}

export function computingText (load: { queued: number, running: number }): string {
  if (load.running === 0 && load.queued === 0) return 'idle'
  const run = `${load.running} task${load.running === 1 ? '' : 's'} running`
  return load.queued === 0 ? run : `${run}, ${load.queued} queued`
}

export function linkText (p: PersonInput): string {
  if (p.self) return 'this device'
  if (!p.direct) return 'through the relay only (no tasks yet; a direct link is being tried)'
  return p.verified ? 'direct link, room key checked' : 'direct link, checking the room key…'
}

export function personOf (p: PersonInput): Person {
  return {
    id: p.id,
    name: p.name === '' ? 'Someone' : p.name,
    self: p.self,
    kind: kindLabel(p.caps),
    offers: offersText(p.caps),
    battery: batteryText(p.caps),
    volunteers: p.consent,
    computing: computingText(p.load),
    link: linkText(p),
    colour: ''
  }
}

/** You first, then the others by name (peer id breaks ties, so the order is stable). */
export function peopleOf (inputs: readonly PersonInput[], colour: (id: string) => string = colourOf): Person[] {
  return inputs.map(personOf).sort((a, b) =>
    a.self !== b.self ? (a.self ? -1 : 1) : a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
    .map(p => ({ ...p, colour: colour(p.id) }))
}
