import type { Capabilities } from '../requirements/capabilities.js'
import type { Rng } from './prng.js'

/**
 * Device profiles. `speed` is work per ms per slot relative to a reference
 * browser core; the scheduler never sees it, only kind and cores (its prior)
 * and the durations it observes. Figures are rough orders of magnitude to be
 * calibrated against the real swarm (docs/scheduling.md, "Calibration").
 */
export interface PeerProfile {
  name: 'phone' | 'laptop' | 'desktop' | 'mcu'
  share: number
  caps: Omit<Capabilities, 'runtimes' | 'battery'>
  speed: number
  rttMs: [number, number]
  bandwidthBps: [number, number]
  /** Probability of the onnx runtime (ML filters). */
  onnx: number
  /** Runs on battery: level drawn uniformly, charging with this probability. */
  battery?: { charging: number }
}

const BASE = { memoryMB: 4096, maxMemoryPages: 16384, wasmSimd: true, wasmThreads: true, webgpu: false, videoDecode: [], videoEncode: [] }

export const PROFILES: readonly PeerProfile[] = [
  { name: 'phone', share: 0.45, caps: { ...BASE, kind: 'browser', cores: 8, slots: 2, mobile: true }, speed: 0.4, rttMs: [60, 200], bandwidthBps: [0.5e6, 3e6], onnx: 0.3, battery: { charging: 0.3 } },
  { name: 'laptop', share: 0.35, caps: { ...BASE, kind: 'browser', cores: 8, slots: 4, webgpu: true }, speed: 1, rttMs: [20, 80], bandwidthBps: [2e6, 12e6], onnx: 0.6, battery: { charging: 0.8 } },
  { name: 'desktop', share: 0.1, caps: { ...BASE, kind: 'node', cores: 16, slots: 8, memoryMB: 16384, maxMemoryPages: 65536 }, speed: 1.3, rttMs: [10, 40], bandwidthBps: [10e6, 50e6], onnx: 1 },
  { name: 'mcu', share: 0.1, caps: { ...BASE, kind: 'mcu', cores: 1, slots: 1, memoryMB: 0, maxMemoryPages: 3, wasmSimd: false, wasmThreads: false }, speed: 0.01, rttMs: [5, 20], bandwidthBps: [20e3, 20e3], onnx: 0 }
]

export interface SimPeer {
  id: string
  idx: number
  profile: PeerProfile['name']
  caps: Capabilities
  /** Actual work per ms per slot (stragglers are slower than their profile). */
  speed: number
  rttMs: number
  bandwidthBps: number
  joinAt: number
  /** Infinity for a peer that stays. */
  leaveAt: number
  /** Left cleanly (bye: noticed after a round trip) or silently (noticed after missed beats). */
  cleanLeave: boolean
  straggler: boolean
  liar: boolean
  /** Never leaves and is the `self` offer (the submitting device). */
  self: boolean
  /**
   * From this time on (ms) the peer runs `slowFactor` times slower, running
   * tasks included: a device throttled mid-job (a phone getting hot, a
   * cgroup quota cut in the calibration run).
   */
  slowAt?: number
  slowFactor?: number
}

export interface PeerDraw {
  stragglers: number
  stragglerSlowdown: number
  liars: number
  /** Shares of the profiles to draw from, by name (default each profile's `share`). */
  mix?: Partial<Record<PeerProfile['name'], number>>
}

export function drawPeer (rng: Rng, idx: number, draw: PeerDraw, profile?: PeerProfile): SimPeer {
  const p = profile ?? PROFILES[rng.weighted(PROFILES.map(x => draw.mix?.[x.name] ?? x.share))]
  const caps: Capabilities = {
    ...p.caps,
    videoDecode: [...p.caps.videoDecode],
    videoEncode: [...p.caps.videoEncode],
    runtimes: rng.chance(p.onnx) ? ['wasm', 'onnx'] : ['wasm']
  }
  if (p.battery != null) caps.battery = { level: Math.round(rng.uniform(0.02, 1) * 100) / 100, charging: rng.chance(p.battery.charging) }
  const straggler = rng.chance(draw.stragglers)
  return {
    id: `p${idx}`,
    idx,
    profile: p.name,
    caps,
    speed: p.speed * rng.lognormal(1, 0.15) / (straggler ? draw.stragglerSlowdown : 1),
    rttMs: rng.uniform(p.rttMs[0], p.rttMs[1]),
    bandwidthBps: rng.uniform(p.bandwidthBps[0], p.bandwidthBps[1]),
    joinAt: 0,
    leaveAt: Infinity,
    cleanLeave: rng.chance(0.5),
    straggler,
    liar: rng.chance(draw.liars),
    self: false
  }
}
