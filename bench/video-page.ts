import type { Page } from 'playwright-core'

/**
 * What bench/video.bench.ts runs inside pages: Fedra's worker step with a
 * chosen filter build, ffmpeg.wasm, a timed video job, and a hook on a
 * worker page that records each unit's worker step.
 */
type W = any
type Filter = { name: string, values?: Record<string, number> }

export interface StepRun { frames: number, stepMs: number, ms: number, hash: string }

/**
 * The worker step (decode, filter chain, encode) over a whole clip in this
 * tab, unit after unit, through the tab's own video unit runner as the
 * worker service calls it (src/peer/video-worker.ts: one pool task per
 * unit, the 'video-unit' program) — with the filter build chosen here:
 * `.simd.wasm` or the scalar `.wasm` (src/filters/catalog.ts). `values` are
 * the catalog params in order; an empty chain is decode, RGBA copy, hash,
 * encode. stepMs: the runner's calls alone (the unit to the pool worker and
 * its result back included); ms: the whole loop (demux and planning too).
 */
export async function fedraStep (page: Page, clipUrl: string, simd: boolean, chain: Array<{ name: string, values: number[] }>): Promise<StepRun> {
  return page.evaluate(async ({ clipUrl, simd, chain }) => {
    const w = window as W
    const fedra = w.fedra
    const media = await fedra.loadMedia()
    const video = fedra.peer.worker.init.video
    const blob = await (await fetch(clipUrl)).blob()
    w.__benchModules ??= {}
    const mods = await Promise.all(chain.map(async f => {
      const file = `${f.name}${simd ? '.simd' : ''}.wasm`
      w.__benchModules[file] ??= new Uint8Array(await (await fetch(`/filters/${file}`)).arrayBuffer())
      return { key: `bench:${file}`, bytes: w.__benchModules[file] as Uint8Array, entry: f.name, values: f.values }
    }))
    const t0 = performance.now()
    const opened = await media.openVideo(blob)
    const format = media.outputFormatFor(opened)
    // the catalog's cap for these filters: the frame + 8 KiB (memoryPagesFor, scratch 0)
    const memoryPages = Math.ceil((opened.width * opened.height * 4 + 8192) / 65536)
    const videoChain = {
      v: 1,
      filters: mods.map(m => ({ cid: m.key, entry: m.entry, values: m.values, memoryPages })),
      codec: format.codec,
      bitrate: media.defaultBitrate(opened.width, opened.height)
    }
    const modules = mods.map(m => ({ key: m.key, bytes: m.bytes }))
    let stepMs = 0
    let frames = 0
    const hashes: string[] = []
    try {
      for await (const unit of opened.units({})) {
        const input = media.encodeVideoUnit(unit)
        const t1 = performance.now()
        const r = await video.run({ chain: videoChain, modules, input, limits: { memoryPages: 16, timeoutMs: 120_000 } })
        stepMs += performance.now() - t1
        const result = media.decodeVideoUnitResult(r.output)
        frames += result.frames as number
        hashes[result.index] = result.hash
      }
    } finally {
      opened.close()
    }
    return { frames, stepMs, ms: performance.now() - t0, hash: hashes.join('') }
  }, { clipUrl, simd, chain })
}

/**
 * One ffmpeg.wasm exec in `page` (a page of the bench's own server): a fresh
 * instance of the single-thread core each time, loaded offline from the
 * server (a reused one crashed on its third codec here), the input written
 * to its file system first; ms of the exec alone.
 */
export async function ffmpegWasm (page: Page, clip: string, args: string[], out: string): Promise<{ ms: number, bytes: number }> {
  return page.evaluate(async ({ clip, args, out }) => {
    const w = window as W
    w.__ff?.terminate()
    const { FFmpeg } = await import(/* @vite-ignore */ `${location.origin}/ffmpeg/index.js`)
    const ff = w.__ff = new FFmpeg()
    await ff.load({ coreURL: `${location.origin}/core/ffmpeg-core.js`, wasmURL: `${location.origin}/core/ffmpeg-core.wasm` })
    const input = `in${clip.slice(clip.lastIndexOf('.'))}`
    await ff.writeFile(input, new Uint8Array(await (await fetch(`/clips/${clip}`)).arrayBuffer()))
    const t0 = performance.now()
    const rc = await ff.exec(['-threads', '1', '-i', input, ...args])
    const ms = performance.now() - t0
    const bytes = rc === 0 ? (await ff.readFile(out)).byteLength as number : 0
    if (rc !== 0 || bytes === 0) throw new Error(`ffmpeg.wasm exited with ${rc} (${bytes} bytes out)`)
    return { ms, bytes }
  }, { clip, args, out })
}

export interface TimedEvent { t: number, type: string, index?: number, workerId?: string, job?: string, tasks?: number }

export interface JobRun {
  frames: number
  /** runVideoJob's own time (open → file ready), ms. */
  ms: number
  /** From the call until the page had the file (base64 of the output included), ms. */
  wall: number
  owners: string[]
  events: TimedEvent[]
}

/**
 * `fedra.videoJob` on a clip of the bench's server, every event stamped with
 * ms since the call; `paceSeconds`: the file arrives evenly over that long.
 */
export async function videoJob (page: Page, clipUrl: string, filters: Filter[], opts: { local?: boolean, paceSeconds?: number } = {}): Promise<JobRun> {
  return page.evaluate(async ({ clipUrl, filters, local, paceSeconds }) => {
    const bytes = new Uint8Array(await (await fetch(clipUrl)).arrayBuffer())
    let bin = ''
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
    const file = btoa(bin)
    const events: TimedEvent[] = []
    const t0 = performance.now()
    const r = await (window as W).fedra.videoJob({
      file,
      name: clipUrl.slice(clipUrl.lastIndexOf('/') + 1),
      filters,
      local,
      paceSeconds,
      onProgress: (e: W) => {
        events.push({ t: performance.now() - t0, type: e.type, index: e.index, workerId: e.workerId, job: e.event?.type, tasks: e.event?.taskIds?.length })
      }
    })
    return { frames: r.frames as number, ms: r.ms as number, wall: performance.now() - t0, owners: r.owners as string[], events }
  }, { clipUrl, filters, local: opts.local === true, paceSeconds: opts.paceSeconds })
}

/**
 * Wraps the page's video unit runner (the WorkerService's `video`) so that
 * every unit it runs leaves `{ index, ms }` in `window.__benchSteps`: the
 * worker step of that unit as the worker measured it.
 */
export async function recordSteps (page: Page): Promise<void> {
  await page.evaluate(async () => {
    const w = window as W
    const media = await w.fedra.loadMedia()
    const video = w.fedra.peer.worker.init.video
    w.__benchSteps = []
    if (video.__benchWrapped === true) return
    const run = video.run.bind(video)
    video.run = async (task: W, options: W) => {
      const r = await run(task, options)
      w.__benchSteps.push({ index: media.decodeVideoUnitResult(r.output).index, ms: r.ms })
      return r
    }
    video.__benchWrapped = true
  })
}

/** The steps recorded since the last call (and clears them). */
export async function takeSteps (page: Page): Promise<Array<{ index: number, ms: number }>> {
  return page.evaluate(() => (window as W).__benchSteps.splice(0))
}
