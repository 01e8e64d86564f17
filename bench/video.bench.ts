import { launchBrowser, openPage, startRelay } from '../e2e/harness.js'
import { fmt, median, table } from './stats.js'
import { openRoom, settle, sleep } from './rooms.js'
import { fedraStep, ffmpegWasm, recordSteps, takeSteps, videoJob } from './video-page.js'
import { STAGES, breakdown } from './video-breakdown.js'
import { CHAIN, CODECS, FFMPEG_VF, cgroupPids, clipMiB, ensureClips, ffmpegArgs, frameCount, nativeFfmpeg, rendererRssMiB, startStaticServer } from './video-tools.js'
import type { Device, Room } from './rooms.js'
import type { JobRun, StepRun } from './video-page.js'

/**
 * Video benchmarks (issue 28), every figure a ratio measured side by side in
 * one run:
 *  1. the worker step in one tab (decode, grayscale → brightness/contrast,
 *     encode) per codec, SIMD vs scalar filter builds, against ffmpeg.wasm
 *     (single-thread core, served from node_modules by our own loopback
 *     server) and native ffmpeg `-threads 1` doing the same chain and codec;
 *  2. the room: N = 2, 4, 6 workers, each its own Chromium in a CPU cgroup
 *     (bench/rooms.ts), video job throughput vs the sum of each worker's
 *     standalone throughput, on a 30 s clip;
 *  3. streaming: a 30 s clip arriving over time (a recording), time from
 *     the last unit stored to the file ready, in worker steps;
 *  4. a 60 s clip and 720p clips through the room of 4 (quotas lifted):
 *     time, units, re-queues, the longest gap between results, and the
 *     owner tab's peak memory.
 *
 *   unshare --net bash -c 'ip link set lo up && exec node --import ./scripts/node-preload.mjs bench/video.bench.ts'
 * Knobs: FEDRA_DIST (built app, default dist), BENCH_ONLY (step,room,big;
 * also breakdown: where a frame's time goes in the step, bench/video-breakdown.ts),
 * BENCH_N (2,4,6), BENCH_STEP_REPS (3), BENCH_REPS (room runs, 2),
 * BENCH_VIDEO_CLIP (bench-30s.webm), BENCH_STREAM_CLIP (bench-30s.mp4),
 * BENCH_PACE (the streaming clip's arrival time in s; default 30 s or, where
 * the room is slower than that, frames / (0.7 × Σ standalone)). Clips: scripts/test-clips.sh with
 * FEDRA_BENCH_CLIPS=1 (made here when missing).
 */
type W = any
const DIST = process.env.FEDRA_DIST ?? 'dist'
const ONLY = new Set((process.env.BENCH_ONLY ?? 'step,room,big').split(','))
const STEP_REPS = Number(process.env.BENCH_STEP_REPS ?? 3)
const REPS = Number(process.env.BENCH_REPS ?? 2)
const ROOM_CLIP = process.env.BENCH_VIDEO_CLIP ?? 'bench-30s.webm'
const WARM_CLIP = 'vp8.webm'
/** The streaming run's clip: MP4 with its moov first, which mediabunny reads as it arrives (a WebM's track is known only at its end). */
const STREAM_CLIP = process.env.BENCH_STREAM_CLIP ?? 'bench-30s.mp4'
const STREAM_SECONDS = 30
const PACE = process.env.BENCH_PACE != null ? Number(process.env.BENCH_PACE) : undefined
const BIG_CLIPS = ['bench-60s.webm', 'h264-720p.mp4', 'bench-720p-20s.mp4']
/** The scheduling bench's rooms: uneven quotas (cores), each set below the 2 cores. */
const ROOMS: Record<number, number[]> = { 2: [0.5, 0.25], 4: [0.45, 0.35, 0.25, 0.15], 6: [0.4, 0.3, 0.25, 0.2, 0.15, 0.1] }
/** The chain with the catalog's params in order, for the step's own filter function. */
const STEP_CHAIN = [{ name: 'grayscale', values: [] }, { name: 'brightness', values: [275, 120] }]
const NAME_SHIM = 'window.__name = window.__name || ((f) => f)'

const fps = (frames: number, ms: number): number => frames / (ms / 1000)
const requeued = (r: JobRun): number => r.events.filter(e => e.job === 'requeued').reduce((a, e) => a + (e.tasks ?? 0), 0)
const backups = (r: JobRun): number => r.events.filter(e => e.job === 'backup').length
const lastAt = (r: JobRun, type: string): number => Math.max(...r.events.filter(e => e.type === type).map(e => e.t))
/** The longest wait between two results (or the start and the first), ms. */
function longestGap (r: JobRun): number {
  const ts = [0, ...r.events.filter(e => e.type === 'video:unit-done').map(e => e.t)].sort((a, b) => a - b)
  return Math.max(...ts.slice(1).map((t, i) => t - ts[i]))
}

async function breakdownTable (clips: string): Promise<void> {
  const relay = await startRelay(DIST)
  const { browser } = await launchBrowser()
  try {
    const { page } = await openPage(browser, relay.url, [])
    const rows: Array<Record<string, string>> = []
    const single: Array<Record<string, string>> = []
    const phases: Array<Record<string, string>> = []
    for (const c of CODECS) {
      const runs = []
      for (let i = 0; i < STEP_REPS; i++) runs.push(await breakdown(page, `${clips}/clips/${c.clip}`, STEP_CHAIN))
      const row: Record<string, string> = { codec: `${c.label} (${runs[0].frames} frames)` }
      for (const s of STAGES) {
        const fpsMed = median(runs.map(r => r.fps[s]))
        row[s] = `${fmt(fpsMed, 0)} (${fmt(1000 / fpsMed, 1)} ms)`
      }
      rows.push(row)
      const one: Record<string, string> = { codec: c.label }
      for (const k of Object.keys(runs[0].ms)) one[k] = fmt(median(runs.map(r => r.ms[k])), 2)
      single.push(one)
      const ph: Record<string, string> = { codec: c.label }
      for (const k of Object.keys(runs[0].phases)) ph[k] = fmt(median(runs.map(r => r.phases[k])), 2)
      phases.push(ph)
      console.error(`[breakdown] ${c.label} done`)
    }
    console.log(`\n== Where a frame's time goes (median of ${STEP_REPS}): frames/s over the clip (ms per frame), each stage on the page's thread, new decoder (and encoder) per unit`)
    console.log('   chain grayscale → brightness (SIMD builds); "pool calls": each filter a call into the page\'s worker pool per frame (the former path);')
    console.log('   "in a pool worker": each unit one task of the pool, the video-unit program (src/media/unit-program.ts), as a volunteer runs it\n')
    console.log(table(rows))
    console.log('\n   single operations on one 640×360 frame, ms (medians of 40)\n')
    console.log(table(single))
    console.log('\n   the step on the page\'s thread (src/media/step.ts timings), ms per output frame by phase; the decoder and encoder work on their own threads meanwhile\n')
    console.log(table(phases))
  } finally {
    await browser.close().catch(() => {})
    await relay.stop()
  }
}

async function stepTable (clips: string): Promise<void> {
  const relay = await startRelay(DIST)
  const { browser } = await launchBrowser()
  try {
    const { page } = await openPage(browser, relay.url, [])
    const ff = await browser.newPage()
    await ff.addInitScript(NAME_SHIM)
    await ff.goto(clips)
    const rows: Array<Record<string, string>> = []
    const ratios: Array<Record<string, string>> = []
    const notes: string[] = []
    for (const c of CODECS) {
      const frames = frameCount(c.clip)
      const url = `${clips}/clips/${c.clip}`
      const wasm = c.wasm ?? c
      // warm-up: the media code, the filters compiled in the pool, the codecs
      await fedraStep(page, url, true, STEP_CHAIN)
      await fedraStep(page, url, false, STEP_CHAIN)
      await ffmpegWasm(ff, c.clip, ffmpegArgs(wasm.fast, c.out), c.out)
      const f: Record<string, number[]> = { simd: [], scalar: [], floor: [], job: [], wasmFast: [], wasmPlain: [], nativeFast: [], nativePlain: [] }
      const steps: StepRun[] = []
      for (let i = 0; i < STEP_REPS; i++) {
        // interleaved, so the machine's load (2 shared cores) hits every column alike
        const simd = await fedraStep(page, url, true, STEP_CHAIN)
        const scalar = await fedraStep(page, url, false, STEP_CHAIN)
        if (simd.hash !== scalar.hash) throw new Error(`${c.label}: the SIMD and scalar builds filtered different frames`)
        if (simd.frames !== frames) throw new Error(`${c.label}: ${simd.frames} frames out of ${frames}`)
        steps.push(simd)
        f.simd.push(fps(simd.frames, simd.stepMs))
        f.scalar.push(fps(scalar.frames, scalar.stepMs))
        // the floor of the step: decode, RGBA copy, hash, encode, no filter
        f.floor.push(fps(frames, (await fedraStep(page, url, true, [])).stepMs))
        const job = await videoJob(page, url, CHAIN, { local: true })
        f.job.push(fps(job.frames, job.ms))
        f.wasmFast.push(fps(frames, (await ffmpegWasm(ff, c.clip, ffmpegArgs(wasm.fast, c.out), c.out)).ms))
        f.nativeFast.push(fps(frames, await nativeFfmpeg(c.clip, c.fast, c.out)))
        // the encoders' defaults are 3–5× slower: once each, beside the first run
        if (i > 0) continue
        f.wasmPlain.push(fps(frames, (await ffmpegWasm(ff, c.clip, ffmpegArgs(wasm.plain, c.out), c.out)).ms))
        f.nativePlain.push(fps(frames, await nativeFfmpeg(c.clip, c.plain, c.out)))
      }
      if (c.wasm != null) notes.push(`${c.label}: ${c.wasm.note}`)
      const m = Object.fromEntries(Object.entries(f).map(([k, v]) => [k, median(v)]))
      const range = (k: string): string => `${fmt(m[k], 0)} (${fmt(Math.min(...f[k]), 0)}–${fmt(Math.max(...f[k]), 0)})`
      rows.push({
        codec: `${c.label} (${frames} frames)`,
        'Fedra step SIMD': range('simd'),
        'Fedra step scalar': range('scalar'),
        'step, no filter': range('floor'),
        'one-tab job (app)': range('job'),
        'ffmpeg.wasm realtime': range('wasmFast') + (c.wasm != null ? ' *' : ''),
        'ffmpeg.wasm defaults (1 run)': fmt(m.wasmPlain, 0) + (c.wasm != null ? ' *' : ''),
        'native realtime': range('nativeFast'),
        'native defaults (1 run)': fmt(m.nativePlain, 0)
      })
      ratios.push({
        codec: c.label + (c.wasm != null ? ' *' : ''),
        'SIMD / scalar': fmt(m.simd / m.scalar),
        'step / ffmpeg.wasm realtime': `${fmt(m.simd / m.wasmFast, 1)}×`,
        'step / ffmpeg.wasm defaults': `${fmt(m.simd / m.wasmPlain, 1)}×`,
        'one-tab job / ffmpeg.wasm realtime': `${fmt(m.job / m.wasmFast, 1)}×`,
        'no-filter step / ffmpeg.wasm realtime': `${fmt(m.floor / m.wasmFast, 1)}×`,
        'step / native realtime': fmt(m.simd / m.nativeFast),
        'ffmpeg.wasm / native (realtime)': fmt(m.wasmFast / m.nativeFast),
        'step share of the one-tab run': `${fmt(median(steps.map(s => s.stepMs / s.ms)) * 100, 0)}%`
      })
      console.error(`[step] ${c.label} done`)
    }
    console.log(`\n== Worker step in one tab, frames/s: median of ${STEP_REPS} (min–max), interleaved; 640×360, chain grayscale → brightness +20 / contrast 120 %`)
    console.log(`   Fedra step = decode + filters + encode, unit after unit, each one task of the page's worker pool (the 'video-unit' program), as a worker runs them;`)
    console.log('   step, no filter = the same with an empty chain (decode, RGBA copy, hash, encode); one-tab job = fedra.videoJob({ local: true }) whole (demux, store, step, mux)')
    console.log(`   ffmpeg: -threads 1 -vf ${FFMPEG_VF}, same codec and bit rate; realtime = libvpx -deadline realtime (VP8 -cpu-used -6, VP9 7, as Chromium's encoder), x264 -preset ultrafast baseline; defaults = the encoder's own\n`)
    console.log(table(rows))
    console.log('\n   ratios (medians)\n')
    console.log(table(ratios))
    for (const n of notes) console.log(`   * ${n}`)
  } finally {
    await browser.close().catch(() => {})
    await relay.stop()
  }
}

/** Peak JS heap (CDP Runtime.getHeapUsage), ArrayBuffer backing stores where reported, and the renderers' RSS of `d`'s browser, sampled every 200 ms. */
async function sampleMemory (d: Device): Promise<() => Promise<{ heap: number, backing: number, rss: number, heap0: number }>> {
  const cdp = await d.page.context().newCDPSession(d.page)
  const mib = (b: number): number => b / (1024 * 1024)
  const peak = { heap: 0, backing: NaN, rss: 0, heap0: NaN }
  let running = true
  const loop = (async () => {
    while (running) {
      const u = await cdp.send('Runtime.getHeapUsage') as W
      if (Number.isNaN(peak.heap0)) peak.heap0 = mib(u.usedSize)
      peak.heap = Math.max(peak.heap, mib(u.usedSize))
      if (u.backingStorageSize != null) peak.backing = Math.max(Number.isNaN(peak.backing) ? 0 : peak.backing, mib(u.backingStorageSize))
      peak.rss = Math.max(peak.rss, rendererRssMiB(cgroupPids(d.tb.cgroup)))
      await sleep(200)
    }
  })()
  return async () => { running = false; await loop; await cdp.detach().catch(() => {}); return peak }
}

async function bigClips (room: Room, clips: string): Promise<Array<Record<string, string>>> {
  for (const w of room.workers) w.tb.setQuota(null)
  await settle(room.workers)
  const rows: Array<Record<string, string>> = []
  for (const clip of BIG_CLIPS) {
    const frames = frameCount(clip)
    const stop = await sampleMemory(room.submitter)
    const r = await videoJob(room.submitter.page, `${clips}/clips/${clip}`, CHAIN)
    const mem = await stop()
    const units = r.events.filter(e => e.type === 'video:unit-stored').length
    rows.push({
      clip: `${clip} (${fmt(clipMiB(clip), 1)} MiB)`,
      frames: `${r.frames} of ${frames}${r.frames === frames ? '' : ' (SHORT)'}`,
      units: String(units),
      time: `${fmt(r.ms / 1000, 1)} s (${fmt(fps(r.frames, r.ms), 0)} fps)`,
      'longest wait for a result': `${fmt(longestGap(r), 0)} ms`,
      're-queued / backups': `${requeued(r)} / ${backups(r)}`,
      'owner JS heap: before → peak': `${fmt(mem.heap0, 0)} → ${fmt(mem.heap, 0)} MiB`,
      'owner ArrayBuffers peak': `${fmt(mem.backing, 0)} MiB`,
      'owner renderer RSS peak': `${fmt(mem.rss, 0)} MiB`
    })
    await settle(room.workers)
  }
  return rows
}

async function main (): Promise<void> {
  const t0 = Date.now()
  ensureClips()
  const server = await startStaticServer()
  try {
    if (ONLY.has('breakdown')) await breakdownTable(server.url)
    if (ONLY.has('step')) await stepTable(server.url)
    const sizes = ONLY.has('room') ? (process.env.BENCH_N ?? '2,4,6').split(',').map(Number).filter(n => ROOMS[n] != null) : []
    if (ONLY.has('big') && !sizes.includes(4)) sizes.push(4)
    const clipUrl = `${server.url}/clips/${ROOM_CLIP}`
    const frames = frameCount(ROOM_CLIP)
    const eff: Array<Record<string, string>> = []
    const stream: Array<Record<string, string>> = []
    let big: Array<Record<string, string>> = []
    for (const n of sizes) {
      const room = await openRoom(DIST, `vid${n}`, ROOMS[n])
      try {
        const { submitter, workers } = room
        // unthrottled warm-up: the media code, the chain's modules, the codecs
        await Promise.all(workers.map(async w => videoJob(w.page, `${server.url}/clips/${WARM_CLIP}`, CHAIN, { local: true })))
        await Promise.all(workers.map(async w => { await recordSteps(w.page) }))
        for (const w of workers) w.tb.setQuota(w.quota)
        await settle(workers)
        // one room job, so the submitter learns every worker's speed
        await videoJob(submitter.page, `${server.url}/clips/${WARM_CLIP}`, CHAIN)
        await settle(workers)
        if (ONLY.has('room')) {
          // standalone: each worker alone on the whole clip, all at once, each capped by its quota
          const alone = await Promise.all(workers.map(async w => videoJob(w.page, clipUrl, CHAIN, { local: true })))
          const aloneFps = alone.map(r => fps(r.frames, r.ms))
          const sum = aloneFps.reduce((a, b) => a + b, 0)
          await settle(workers)
          await Promise.all(workers.map(async w => takeSteps(w.page)))
          const runs: Array<{ r: JobRun, cpu: number }> = []
          for (let i = 0; i < REPS; i++) {
            const c0 = submitter.tb.cpuSeconds()
            const r = await videoJob(submitter.page, clipUrl, CHAIN)
            runs.push({ r, cpu: submitter.tb.cpuSeconds() - c0 })
            await settle(workers)
          }
          const ms = median(runs.map(x => x.r.ms))
          const best = runs.reduce((a, b) => Math.abs(b.r.ms - ms) < Math.abs(a.r.ms - ms) ? b : a)
          const units = best.r.owners.length
          eff.push({
            N: String(n),
            'quotas (cores)': `${ROOMS[n].join(' + ')} = ${fmt(ROOMS[n].reduce((a, b) => a + b, 0))}`,
            'Σ standalone': `${fmt(sum, 1)} fps`,
            swarm: `${fmt(fps(frames, ms), 1)} fps`,
            makespan: `${fmt(ms, 0)} ms`,
            ideal: `${fmt(frames / sum * 1000, 0)} ms`,
            efficiency: fmt(fps(frames, ms) / sum),
            runs: runs.map(x => fmt(x.r.ms, 0)).join(', '),
            'units: got (fair share)': workers.map((w, i) => `${best.r.owners.filter(o => o === w.id).length} (${fmt(aloneFps[i] / sum * units, 1)})`).join(', '),
            're-queued / backups': `${requeued(best.r)} / ${backups(best.r)}`,
            'submitter CPU': `${fmt(best.cpu, 1)} s`
          })
          // streaming: the clip arrives over time, as a recording or an upload would, no faster than
          // real time and at most at 70 % of what the room can take (it must not only pile up)
          const pace = PACE ?? Math.max(STREAM_SECONDS, frames / (0.7 * sum))
          for (const clip of stream.length === 0 ? [STREAM_CLIP, ROOM_CLIP] : [STREAM_CLIP]) {
            await Promise.all(workers.map(async w => takeSteps(w.page)))
            const paced = await videoJob(submitter.page, `${server.url}/clips/${clip}`, CHAIN, { paceSeconds: pace })
            const steps = (await Promise.all(workers.map(async w => takeSteps(w.page)))).flat()
            const stepMs = median(steps.map(s => s.ms))
            const lastIndex = Math.max(...steps.map(s => s.index))
            const lastStep = Math.max(...steps.filter(s => s.index === lastIndex).map(s => s.ms))
            const stored = lastAt(paced, 'video:unit-stored')
            stream.push({
              N: String(n),
              clip: `${clip}, arriving over ${fmt(pace, 0)} s`,
              'first unit sent': `${fmt(Math.min(...paced.events.filter(e => e.type === 'video:unit-started').map(e => e.t)), 0)} ms`,
              'last unit stored': `${fmt(stored, 0)} ms`,
              'file ready': `${fmt(paced.wall, 0)} ms`,
              'tail (ready − last stored)': `${fmt(paced.wall - stored, 0)} ms`,
              'unit step (median / last unit)': `${fmt(stepMs, 0)} / ${fmt(lastStep, 0)} ms`,
              'tail in unit steps': fmt((paced.wall - stored) / stepMs, 1),
              're-queued / backups': `${requeued(paced)} / ${backups(paced)}`
            })
            await settle(workers)
          }
          console.error(`[room] N = ${n} measured (${fmt((Date.now() - t0) / 1000, 0)} s so far)`)
        }
        if (n === 4 && ONLY.has('big')) big = await bigClips(room, server.url)
      } finally {
        await room.close()
      }
    }
    if (eff.length > 0) {
      console.log(`\n== Swarm efficiency, ${ROOM_CLIP} (${frames} frames, 640×360 VP8, 3 s GOPs, 1 s units): swarm fps / Σ standalone fps`)
      console.log('   standalone: each worker runs fedra.videoJob({ local: true }) on the clip alone, all at once, each in its cgroup; swarm: a submitter tab (volunteering off, own browser, unthrottled) runs the job, default scheduler (ECT), backups on')
      console.log(`   median of ${REPS}; "got (fair share)": units each worker computed vs its share by standalone speed\n`)
      console.log(table(eff))
      console.log('\n== Streaming: the clip arrives evenly over the time shown (a recording or an upload: real time, or slower where the room could not keep up);')
      console.log('   times from the call on the submitter\'s page; unit step = the worker\'s own time for a unit (decode, chain, encode) in that run\n')
      console.log(table(stream))
    }
    if (big.length > 0) {
      console.log('\n== Long and 720p clips through the room of 4 workers (quotas lifted) + the submitter; memory sampled every 200 ms in the submitter (owner) tab\n')
      console.log(table(big))
    }
    console.log(`\n(video benchmarks took ${fmt((Date.now() - t0) / 1000, 0)} s)`)
  } finally {
    await server.stop()
  }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1) })
