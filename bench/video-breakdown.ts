import type { Page } from 'playwright-core'

/**
 * Where a frame's time goes in the worker step (bench/video.bench.ts,
 * BENCH_ONLY=breakdown): the clip's units run through growing pieces of the
 * step in the app's page, each unit with a new decoder (and a new encoder
 * where it encodes), as src/media/step.ts does; frames/s over the clip.
 * Then the step itself: on the page's thread with a pool call per filter
 * per frame (the former path) or with one instance per filter (what the
 * video-unit program does, with the step's phase timings), and in a pool
 * worker as a volunteer runs it. Also single operations on one frame: a
 * call into the page's worker pool, a bare postMessage round trip, the
 * filter alone, SHA-256, a new VideoFrame.
 */
type W = any

export interface Breakdown {
  frames: number
  /** Stage name → frames/s. */
  fps: Record<string, number>
  /** The step on this thread, ms per output frame by phase (src/media/step.ts StepTimings). */
  phases: Record<string, number>
  /** Per-frame costs of single operations, ms (medians). */
  ms: Record<string, number>
}

export const STAGES = [
  'decode',
  'decode + RGBA copy',
  'decode + RGBA + SHA-256',
  'decode + RGBA + new VideoFrame',
  'decode → encode (bare)',
  'decode + RGBA → VideoFrame → encode',
  'decode + RGBA + 2 pool calls',
  'step on this thread, a pool call per filter per frame',
  'step on this thread (runVideoUnit, one instance per filter)',
  'step in a pool worker, no filter',
  'step in a pool worker (video-unit program)'
] as const

/** Runs every stage once over the clip at `clipUrl`, with the chain's filters (scalar or SIMD builds) for the pool rows. */
export async function breakdown (page: Page, clipUrl: string, chain: Array<{ name: string, values: number[] }>): Promise<Breakdown> {
  return page.evaluate(async ({ clipUrl, chain, stages }) => {
    const w = window as W
    const media = await w.fedra.loadMedia()
    const blob = await (await fetch(clipUrl)).blob()
    const opened = await media.openVideo(blob)
    const format = media.outputFormatFor(opened)
    const units: W[] = []
    for await (const u of opened.units({})) units.push(u)
    opened.close()
    const width = opened.width as number
    const height = opened.height as number
    const bytes = width * height * 4
    const mods = await Promise.all(chain.map(async f => {
      const file = `${f.name}.simd.wasm`
      const module = new Uint8Array(await (await fetch(`/filters/${file}`)).arrayBuffer())
      const params = new Uint8Array(8 + 4 * f.values.length)
      const v = new DataView(params.buffer)
      v.setUint32(0, width, true)
      v.setUint32(4, height, true)
      f.values.forEach((x, i) => { v.setUint32(8 + 4 * i, x, true) })
      return { key: `breakdown:${file}`, module, entry: f.name, params, values: f.values }
    }))
    const memoryPages = Math.ceil((bytes + 8192) / 65536)
    const poolCall = async (input: Uint8Array, m: typeof mods[number]): Promise<Uint8Array> =>
      (await w.fedra.pool.run({ key: m.key, module: m.module, entry: m.entry, input, params: m.params, limits: { memoryPages, timeoutMs: 60_000 } })).output

    const soft = async <C,>(config: C, isSupported: (c: C) => Promise<{ supported?: boolean }>): Promise<C> => {
      const s = { ...config, hardwareAcceleration: 'prefer-software' }
      return (await isSupported(s as C)).supported === true ? s as C : config
    }
    const encoderConfig = await soft<VideoEncoderConfig>({
      codec: format.codec, width, height, bitrate: media.defaultBitrate(width, height), latencyMode: 'quality',
      ...(format.codec.startsWith('avc') ? { avc: { format: 'avc' } } : {})
    } as VideoEncoderConfig, async c => VideoEncoder.isConfigSupported(c))

    /** Decodes one unit with a new decoder (at most 4 frames waiting), handing each output frame to `each` in order. */
    async function pump (unit: W, each: (f: VideoFrame, at: number) => Promise<void>): Promise<void> {
      const c = unit.config
      const dc = await soft<VideoDecoderConfig>({ codec: c.codec, codedWidth: c.codedWidth, codedHeight: c.codedHeight, ...(c.description != null ? { description: c.description } : {}) }, async x => VideoDecoder.isConfigSupported(x))
      const keep = new Set(unit.chunks.slice(unit.skip).map((x: W) => x.timestamp))
      const queue: VideoFrame[] = []
      let wake = (): void => {}
      let failure: Error | undefined
      const decoder = new VideoDecoder({
        output: f => { if (keep.has(f.timestamp)) queue.push(f); else f.close(); wake() },
        error: e => { failure = e as Error; wake() }
      })
      decoder.configure(dc)
      const changed = async (): Promise<void> => { await new Promise<void>(resolve => { wake = resolve }) }
      let at = 0
      const consume = async (): Promise<void> => {
        while (queue.length > 0) {
          const f = queue.shift() as VideoFrame
          try { await each(f, at++) } finally { f.close() }
        }
      }
      for (const x of unit.chunks) {
        while (queue.length + decoder.decodeQueueSize >= 4 && failure == null) {
          if (queue.length > 0) await consume()
          else await changed()
        }
        if (failure != null) throw failure
        decoder.decode(new EncodedVideoChunk({ type: x.key ? 'key' : 'delta', timestamp: x.timestamp, duration: x.duration, data: x.data }))
      }
      const flushed = decoder.flush()
      let done = false
      void flushed.then(() => { done = true; wake() }, (e: Error) => { failure = e; wake() })
      while (!done || queue.length > 0) {
        if (failure != null) throw failure
        if (queue.length > 0) await consume()
        else if (!done) await changed()
      }
      decoder.close()
    }

    const encoderFor = (): { enc: VideoEncoder, add: (f: VideoFrame, key: boolean) => Promise<void> } => {
      const enc = new VideoEncoder({ output: () => {}, error: e => { throw e } })
      enc.configure(encoderConfig)
      return {
        enc,
        add: async (f, key) => {
          enc.encode(f, { keyFrame: key })
          while (enc.encodeQueueSize > 4) await new Promise(resolve => { enc.addEventListener('dequeue', resolve, { once: true }) })
        }
      }
    }

    const rgba = async (f: VideoFrame): Promise<Uint8Array<ArrayBuffer>> => {
      const out = new Uint8Array(bytes)
      await f.copyTo(out, { rect: f.visibleRect ?? undefined, format: 'RGBA', colorSpace: 'srgb' })
      return out
    }
    const frameOf = (data: Uint8Array, f: VideoFrame): VideoFrame =>
      new VideoFrame(data, { format: 'RGBA', codedWidth: width, codedHeight: height, timestamp: f.timestamp, duration: f.duration ?? 0 })

    const run: Record<string, (unit: W) => Promise<void>> = {
      decode: async u => { await pump(u, async () => {}) },
      'decode + RGBA copy': async u => { await pump(u, async f => { await rgba(f) }) },
      'decode + RGBA + SHA-256': async u => { await pump(u, async f => { await crypto.subtle.digest('SHA-256', await rgba(f)) }) },
      'decode + RGBA + new VideoFrame': async u => { await pump(u, async f => { frameOf(await rgba(f), f).close() }) },
      'decode → encode (bare)': async u => {
        const e = encoderFor()
        await pump(u, async (f, at) => { await e.add(f, at === 0) })
        await e.enc.flush(); e.enc.close()
      },
      'decode + RGBA → VideoFrame → encode': async u => {
        const e = encoderFor()
        await pump(u, async (f, at) => { const g = frameOf(await rgba(f), f); try { await e.add(g, at === 0) } finally { g.close() } })
        await e.enc.flush(); e.enc.close()
      },
      'decode + RGBA + 2 pool calls': async u => {
        await pump(u, async f => { let x: Uint8Array = await rgba(f); for (const m of mods) x = await poolCall(x, m) })
      },
      'step on this thread, a pool call per filter per frame': async u => {
        // how src/peer/video-worker.ts ran a unit before the video-unit program
        const filter = async (frame: Uint8Array): Promise<Uint8Array> => {
          for (const m of mods) frame = await poolCall(frame, m)
          return frame
        }
        await media.runVideoUnit(u, filter, { codec: format.codec })
      },
      'step on this thread (runVideoUnit, one instance per filter)': async u => {
        // what the video-unit program does in its worker (src/media/unit-program.ts), on this thread
        const inst = await Promise.all(mods.map(async m => (await WebAssembly.instantiate(m.module, {}) as W).instance.exports))
        const filter = async (frame: Uint8Array): Promise<Uint8Array> => {
          for (let i = 0; i < mods.length; i++) {
            const x = inst[i]
            const p = x.fedra_alloc(frame.byteLength) >>> 0
            new Uint8Array(x.memory.buffer, p, frame.byteLength).set(frame)
            const q = x.fedra_alloc(mods[i].params.length) >>> 0
            new Uint8Array(x.memory.buffer, q, mods[i].params.length).set(mods[i].params)
            const n = x[mods[i].entry](p, frame.byteLength, q, mods[i].params.length)
            frame = new Uint8Array(x.memory.buffer, x.fedra_output_ptr() >>> 0, n)
          }
          return frame
        }
        await media.runVideoUnit(u, filter, { codec: format.codec, timings })
      },
      'step in a pool worker, no filter': async u => { await unitTask(u, []) },
      'step in a pool worker (video-unit program)': async u => { await unitTask(u, mods) }
    }
    const timings = media.emptyTimings()
    const video = w.fedra.peer.worker.init.video
    const unitTask = async (u: W, ms: typeof mods): Promise<void> => {
      const chain = { v: 1, filters: ms.map(m => ({ cid: m.key, entry: m.entry, values: m.values, memoryPages })), codec: format.codec, bitrate: media.defaultBitrate(width, height) }
      await video.run({ chain, modules: ms.map(m => ({ key: m.key, bytes: m.module })), input: media.encodeVideoUnit(u), limits: { memoryPages: 16, timeoutMs: 120_000 } })
    }
    // warm: codecs, the pool's compiled modules, the video-unit program
    await run['decode + RGBA → VideoFrame → encode'](units[0])
    await run['decode + RGBA + 2 pool calls'](units[0])
    await run['step in a pool worker (video-unit program)'](units[0])
    const frames = units.reduce((a, u) => a + u.chunks.length - u.skip, 0)
    const fps: Record<string, number> = {}
    Object.assign(timings, media.emptyTimings())
    for (const s of stages) {
      const t0 = performance.now()
      for (const u of units) await run[s](u)
      fps[s] = frames / ((performance.now() - t0) / 1000)
    }
    const phases = Object.fromEntries(Object.entries(timings as Record<string, number>).map(([k, v]) => [k, v / frames]))

    // single operations on one frame, 40 times each, median ms
    const med = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }
    const time = async (fn: () => Promise<unknown>): Promise<number> => {
      const xs: number[] = []
      for (let i = 0; i < 40; i++) { const t0 = performance.now(); await fn(); xs.push(performance.now() - t0) }
      return med(xs)
    }
    const sample = new Uint8Array(bytes).map((_, i) => i * 7) as Uint8Array<ArrayBuffer>
    const ms: Record<string, number> = {}
    for (const m of mods) ms[`pool call: ${m.entry}`] = await time(async () => poolCall(sample, m))
    // a worker that only echoes what it gets: the cost of the hop itself, frame copied both ways
    const echo = new Worker(URL.createObjectURL(new Blob(['onmessage = e => postMessage(e.data)'], { type: 'text/javascript' })))
    ms['postMessage round trip, frame copied'] = await time(async () => new Promise(resolve => { echo.onmessage = resolve; echo.postMessage(sample) }))
    ms['postMessage round trip, frame transferred'] = await time(async () => new Promise(resolve => { echo.onmessage = resolve; const c = sample.slice(); echo.postMessage(c, [c.buffer]) }))
    echo.terminate()
    // the filters alone on this thread, one instance, as the ABI calls them
    for (const m of mods) {
      const { instance } = await WebAssembly.instantiate(m.module, {}) as W
      const x = instance.exports
      ms[`filter alone: ${m.entry}`] = await time(async () => {
        const p = x.fedra_alloc(bytes) >>> 0
        new Uint8Array(x.memory.buffer, p, bytes).set(sample)
        const q = x.fedra_alloc(m.params.length) >>> 0
        new Uint8Array(x.memory.buffer, q, m.params.length).set(m.params)
        return x[m.entry](p, bytes, q, m.params.length)
      })
      const compiled = await WebAssembly.compile(m.module)
      ms[`instantiate (warm module): ${m.entry}`] = await time(async () => WebAssembly.instantiate(compiled, {}))
    }
    const vf = new VideoFrame(sample, { format: 'RGBA', codedWidth: width, codedHeight: height, timestamp: 0 })
    ms['RGBA copy (copyTo, from an RGBA frame)'] = await time(async () => vf.copyTo(new Uint8Array(bytes), { format: 'RGBA', colorSpace: 'srgb' }))
    vf.close()
    ms['SHA-256 of a frame'] = await time(async () => crypto.subtle.digest('SHA-256', sample))
    ms['new VideoFrame from RGBA'] = await time(async () => { new VideoFrame(sample, { format: 'RGBA', codedWidth: width, codedHeight: height, timestamp: 0 }).close() })
    return { frames, fps, ms, phases }
  }, { clipUrl, chain, stages: [...STAGES] })
}
