import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from '@playwright/test'
import { launchBrowser, openPage, startRelay } from './harness.js'
import { probeVideo } from './media-probe.js'
import type { Relay } from './harness.js'
import type { Browser, Page } from 'playwright-core'

/**
 * The video library in one tab (src/media, src/core/media): real clips
 * (scripts/test-clips.sh) opened, planned into units, each unit through the
 * wire codec, decoded, filtered grey in JS, re-encoded by a new encoder and
 * muxed with the input's audio; the file checked by ffprobe against the
 * input, and the per-unit step checked for repeatability.
 */
const CLIPS = '.cache/clips'

interface ClipCase {
  name: string
  /** Byte-identical re-runs are promised only under 640×480 (DESIGN.md). */
  exact: boolean
  /** Expected output container and ffprobe codec name. */
  out: { ext: 'mp4' | 'webm', codec: string }
}

const CASES: ClipCase[] = [
  { name: 'vp8.webm', exact: true, out: { ext: 'webm', codec: 'vp8' } },
  { name: 'h264.mp4', exact: true, out: { ext: 'mp4', codec: 'h264' } },
  { name: 'irregular-aac.mp4', exact: true, out: { ext: 'mp4', codec: 'h264' } },
  { name: 'vp9-opus.webm', exact: true, out: { ext: 'webm', codec: 'vp9' } },
  { name: 'h264-720p.mp4', exact: false, out: { ext: 'mp4', codec: 'h264' } },
  // QuickTime, H.264 High with B-frames, AAC, filmed upright (a 90° matrix)
  { name: 'iphone.mov', exact: true, out: { ext: 'mp4', codec: 'h264' } }
]

interface ClipRun {
  info: { container: string, codec: string, width: number, height: number, durationS: number, frameCount?: number, hasAudio: boolean }
  format: { container: string, codec: string }
  units: Array<{ index: number, chunks: number, skip: number, frames: number, hash: string }>
  file: string
  mimeType: string
  audio: string
  /** The same results added out of order gave the same file. */
  reorderedSame: boolean
  /** A unit (one with priming chunks where there is one) run again from its wire bytes. */
  repeat: { index: number, skip: number, sameBytes: boolean, sameHash: boolean }
  stepFps: number
}

/** Runs the whole pipeline on one clip in `page`; see ClipRun. */
async function runClip (page: Page, name: string): Promise<ClipRun> {
  return page.evaluate(async (url) => {
    const m = await (window as any).fedra.loadMedia()
    const blob = await (await fetch(url)).blob()
    // grey by integer luma weights: the same bytes in any tab
    const grey = async (rgba: Uint8Array): Promise<Uint8Array> => {
      const out = new Uint8Array(rgba.length)
      for (let i = 0; i < rgba.length; i += 4) {
        const y = (rgba[i] * 77 + rgba[i + 1] * 150 + rgba[i + 2] * 29) >> 8
        out[i] = y; out[i + 1] = y; out[i + 2] = y; out[i + 3] = 255
      }
      return out
    }
    const toBase64 = async (b: Blob): Promise<string> => new Promise((resolve, reject) => {
      const r = new FileReader()
      // the MIME type may hold commas (codecs="vp09…, opus"): cut at the base64 marker
      r.onload = () => { const url = String(r.result); resolve(url.slice(url.indexOf(';base64,') + 8)) }
      r.onerror = () => { reject(r.error) }
      r.readAsDataURL(b)
    })
    const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])

    const opened = await m.openVideo(blob)
    const format = m.outputFormatFor(opened)
    const muxerInit = { source: blob, container: format.container, codec: format.codec, width: opened.width, height: opened.height, orientation: opened.orientation }
    const muxer = new m.UnitMuxer(muxerInit)
    const units: ClipRun['units'] = []
    const results: unknown[] = []
    let probe: { wire: Uint8Array, result: Uint8Array, index: number, skip: number } | undefined
    let stepMs = 0
    let frames = 0
    for await (const unit of opened.units()) {
      const wire: Uint8Array = m.encodeVideoUnit(unit)
      const t0 = performance.now()
      const r = await m.runVideoUnit(m.decodeVideoUnit(wire), grey, { codec: format.codec })
      stepMs += performance.now() - t0
      frames += r.frames
      const resultWire: Uint8Array = m.encodeVideoUnitResult(r)
      units.push({ index: unit.index, chunks: unit.chunks.length, skip: unit.skip, frames: r.frames, hash: r.hash })
      if (probe == null || (probe.skip === 0 && unit.skip > 0)) probe = { wire, result: resultWire, index: unit.index, skip: unit.skip }
      const back = m.decodeVideoUnitResult(resultWire)
      results.push(back)
      await muxer.add(back)
    }
    const muxed = await muxer.finish()
    const info = { container: opened.container, codec: opened.config.codec, width: opened.width, height: opened.height, durationS: opened.durationS, frameCount: opened.frameCount, hasAudio: opened.hasAudio }
    opened.close()

    // the same results in another order (pairs swapped, all at once, room for 2) give the same file
    const reordered = new m.UnitMuxer({ ...muxerInit, maxBuffered: 2 })
    const order = results.map((_, i) => (i % 2 === 0 ? Math.min(i + 1, results.length - 1) : i - 1))
    await Promise.all(order.map(async i => reordered.add(results[i])))
    const again = await reordered.finish()
    const reorderedSame = same(new Uint8Array(await muxed.blob.arrayBuffer()), new Uint8Array(await again.blob.arrayBuffer()))

    if (probe == null) throw new Error('no unit')
    const rerun = m.encodeVideoUnitResult(await m.runVideoUnit(m.decodeVideoUnit(probe.wire), grey, { codec: format.codec }))
    const first = m.decodeVideoUnitResult(probe.result)
    const second = m.decodeVideoUnitResult(rerun)
    return {
      info,
      format,
      units,
      file: await toBase64(muxed.blob),
      mimeType: muxed.mimeType,
      audio: muxed.audio,
      reorderedSame,
      repeat: { index: probe.index, skip: probe.skip, sameBytes: same(probe.result, rerun), sameHash: first.hash === second.hash },
      stepFps: frames / (stepMs / 1000)
    }
  }, `/__clips/${name}`)
}

test.describe('video library in one tab', () => {
  let relay: Relay
  let browser: Browser
  let page: Page
  let dir: string

  test.beforeAll(async () => {
    if (!existsSync(join(CLIPS, 'vp8.webm'))) throw new Error(`no test clips in ${CLIPS}: run scripts/test-clips.sh`)
    dir = mkdtempSync(join(tmpdir(), 'fedra-media-'))
    relay = await startRelay()
    browser = (await launchBrowser()).browser
    page = (await openPage(browser, relay.url, [])).page
    // the clips are served to the page from here, not from the app's build
    await page.route('**/__clips/*', async route => {
      const name = new URL(route.request().url()).pathname.split('/').pop() ?? ''
      await route.fulfill({ status: 200, contentType: 'application/octet-stream', body: readFileSync(join(CLIPS, name)) })
    })
  })

  test.afterAll(async () => {
    await browser?.close()
    await relay?.stop()
    if (dir != null) rmSync(dir, { recursive: true, force: true })
  })

  for (const c of CASES) {
    test(`${c.name}: units → step → mux gives a file like the input, audio untouched, repeatable`, async () => {
      const input = await probeVideo(join(CLIPS, c.name))
      const run = await runClip(page, c.name)
      console.log(`${c.name}: ${run.units.length} units (${run.units.map(u => `${u.chunks - u.skip}${u.skip > 0 ? `+${u.skip}` : ''}`).join(' ')}), step ${run.stepFps.toFixed(0)} fps, ${run.format.codec} in ${run.format.container}, audio ${run.audio}`)

      expect(run.info.width).toBe(input.width)
      expect(run.info.height).toBe(input.height)
      expect(Math.abs(run.info.durationS - input.durationS)).toBeLessThan(0.05)
      if (run.info.frameCount != null) expect(run.info.frameCount).toBe(input.frames)
      expect(run.info.hasAudio).toBe(input.audioHash != null)
      // every frame output once, by units in order
      expect(run.units.map(u => u.index)).toEqual(run.units.map((_, i) => i))
      expect(run.units.reduce((n, u) => n + u.frames, 0)).toBe(input.frames)
      for (const u of run.units) expect(u.frames).toBe(u.chunks - u.skip)

      const outPath = join(dir, `${c.name}.out.${c.out.ext}`)
      writeFileSync(outPath, Buffer.from(run.file, 'base64'))
      const output = await probeVideo(outPath)
      expect(output.codec).toBe(c.out.codec)
      expect(output.frames).toBe(input.frames)
      expect(output.width).toBe(input.width)
      expect(output.height).toBe(input.height)
      expect(output.ptsList).toEqual(input.ptsList)
      // it plays the same way up as the input
      expect(output.rotation).toBe(input.rotation)
      if (c.name === 'iphone.mov') expect(input.rotation).not.toBe(0)
      expect(Math.abs(output.durationS - input.durationS)).toBeLessThan(0.05)
      // no wall-clock time in the file: it depends on its units only
      expect(output.creationTime).toBeUndefined()
      if (input.audioHash != null) {
        expect(run.audio).toBe('copied')
        expect(output.audioCodec).toBe(input.audioCodec)
        expect(output.audioPackets).toBe(input.audioPackets)
        expect(output.audioHash).toBe(input.audioHash)
        // the same packet times, but mediabunny writes no Matroska CodecDelay
        // element, so ffprobe shows Opus packets without their pre-skip shift
        // (6.5 ms here; the pre-skip itself travels in OpusHead, untouched)
        const inPts = input.audioPtsList ?? []
        const outPts = output.audioPtsList ?? []
        const offset = outPts[0] - inPts[0]
        if (input.audioCodec === 'opus') expect(offset).toBeLessThanOrEqual(80)
        else expect(offset).toBe(0)
        expect(outPts.every((t, i) => Math.abs(t - inPts[i] - offset) <= 1)).toBe(true)
      } else {
        expect(output.audioHash).toBeUndefined()
      }

      expect(run.reorderedSame).toBe(true)
      expect(run.repeat.sameHash).toBe(true)
      if (c.exact) expect(run.repeat.sameBytes).toBe(true)
    })
  }

  test('an H.264 unit in which two frames share a timestamp (a damaged file) outputs every frame', async () => {
    const run = await page.evaluate(async (url) => {
      const m = await (window as any).fedra.loadMedia()
      const opened = await m.openVideo(await (await fetch(url)).blob())
      let unit: any
      for await (const u of opened.units()) { unit = u; break }
      opened.close()
      // the third frame claims the second one's time (H.264 Baseline: no
      // reordering, so the decoder hands frames back in this order)
      const chunks = unit.chunks.map((c: any, i: number) => i === 2 ? { ...c, timestamp: unit.chunks[1].timestamp } : c)
      const r = await m.runVideoUnit({ ...unit, chunks }, async (x: Uint8Array) => x.slice(), { codec: 'vp8' })
      return { chunks: chunks.length, skip: unit.skip, frames: r.frames, out: r.chunks.length }
    }, '/__clips/h264.mp4')
    expect(run.skip).toBe(0)
    expect(run.chunks).toBeGreaterThan(2)
    expect(run.frames).toBe(run.chunks)
    expect(run.out).toBe(run.chunks)
  })

  test('typed errors: not a video, a codec the browser cannot encode, a filter that returns the wrong size', async () => {
    const names = await page.evaluate(async (url) => {
      const m = await (window as any).fedra.loadMedia()
      const nameOf = async (f: () => Promise<unknown>): Promise<string> => {
        try { await f(); return 'ok' } catch (err) { return (err as Error).name }
      }
      const blob = await (await fetch(url)).blob()
      const opened = await m.openVideo(blob)
      let unit: any
      for await (const u of opened.units()) { unit = u; break }
      opened.close()
      return {
        garbage: await nameOf(async () => m.openVideo(new Blob([new Uint8Array(4096).fill(7)]))),
        encoder: await nameOf(async () => m.runVideoUnit(unit, async (x: Uint8Array) => x, { codec: 'hev1.1.6.L93.B0' })),
        filter: await nameOf(async () => m.runVideoUnit(unit, async () => new Uint8Array(12), { codec: 'vp8' })),
        aborted: await nameOf(async () => m.runVideoUnit(unit, async (x: Uint8Array) => x, { codec: 'vp8', signal: AbortSignal.abort() }))
      }
    }, '/__clips/vp8.webm')
    expect(names).toEqual({ garbage: 'UnsupportedMediaError', encoder: 'UnsupportedMediaError', filter: 'VideoProcessingError', aborted: 'AbortedError' })
  })
})
