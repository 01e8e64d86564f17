import { describeRuntime } from '../runtime/index.browser.js'
import type { Capabilities } from '../core/requirements/capabilities.js'

const CODECS = ['vp8', 'vp09.00.10.08', 'avc1.42001f', 'av01.0.04M.08']

async function supported (kind: 'decode' | 'encode'): Promise<string[]> {
  const out: string[] = []
  const g = globalThis as unknown as { VideoDecoder?: { isConfigSupported: (c: unknown) => Promise<{ supported?: boolean }> }, VideoEncoder?: { isConfigSupported: (c: unknown) => Promise<{ supported?: boolean }> } }
  const api = kind === 'decode' ? g.VideoDecoder : g.VideoEncoder
  if (api == null) return out
  for (const codec of CODECS) {
    try {
      const config = kind === 'decode' ? { codec } : { codec, width: 640, height: 360 }
      if ((await api.isConfigSupported(config)).supported === true) out.push(codec)
    } catch {}
  }
  return out
}

/** What this browser tab offers the room. */
export async function browserCapabilities (workers: number): Promise<Capabilities> {
  const rt = describeRuntime()
  const nav = navigator as Navigator & { gpu?: unknown, getBattery?: () => Promise<{ level: number, charging: boolean }>, userAgentData?: { mobile?: boolean } }
  const caps: Capabilities = {
    kind: 'browser',
    cores: rt.cores,
    memoryMB: rt.memoryMB,
    // a tab gives one function up to 256 MiB of linear memory
    maxMemoryPages: 4096,
    slots: workers,
    wasmSimd: rt.wasmSimd,
    wasmThreads: rt.wasmThreads,
    webgpu: nav.gpu != null,
    videoDecode: await supported('decode'),
    videoEncode: await supported('encode'),
    runtimes: ['wasm']
  }
  // Chromium's client hint, else the user agent (Safari, Firefox)
  if (nav.userAgentData?.mobile ?? /Mobi|Android|iPhone|iPad/i.test(nav.userAgent)) caps.mobile = true
  if (nav.getBattery != null) {
    try {
      const b = await nav.getBattery()
      caps.battery = { level: b.level, charging: b.charging }
    } catch {}
  }
  return caps
}
