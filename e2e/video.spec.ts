import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from '@playwright/test'
import { openSwarm, startRelay, waitForMesh } from './harness.js'
import { probeVideo } from './media-probe.js'
import type { Relay, Swarm } from './harness.js'
import type { VideoRun } from '../src/ui/video-hooks.js'
import type { Page } from 'playwright-core'

/**
 * Video in, video out, in a room of four tabs: real clips (opencv-doc's
 * vtest.avi transcoded by Debian's ffmpeg, scripts/test-clips.sh) filtered
 * by a two-filter chain over real WebRTC, real WebCodecs and real Helia;
 * the output checked by ffprobe against the input and byte for byte
 * against a one-tab run of the same per-unit code.
 */
const CLIPS = '.cache/clips'
const CHAIN = [{ name: 'grayscale' }, { name: 'pixelate', values: { block: 4 } }]

async function videoJob (page: Page, clip: string, opts: { local?: boolean, placement?: 'everyone' }): Promise<VideoRun> {
  const file = readFileSync(join(CLIPS, clip)).toString('base64')
  return page.evaluate(async (o) => (window as any).fedra.videoJob(o), { file, name: clip, filters: CHAIN, ...opts })
}

async function peerId (page: Page): Promise<string> {
  return page.evaluate(() => (window as any).fedra.peer.id as string)
}

test.describe('a video filtered by a room of four tabs', () => {
  let relay: Relay
  let swarm: Swarm
  let dir: string

  test.beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fedra-video-'))
    relay = await startRelay()
    swarm = await openSwarm(relay, 4)
    await waitForMesh(swarm.pages)
  })

  test.afterAll(async () => {
    await swarm?.close()
    await relay?.stop()
    if (dir != null) rmSync(dir, { recursive: true, force: true })
  })

  for (const clip of ['vp8.webm', 'irregular-aac.mp4']) {
    test(`${clip}: the room's file plays like the input, audio untouched, byte-identical to one tab, every tab computed`, async () => {
      const [first] = swarm.pages
      const ids = await Promise.all(swarm.pages.map(peerId))
      const local = await videoJob(first, clip, { local: true })
      expect(new Set(local.owners)).toEqual(new Set([ids[0]]))

      // spread over every tab (least loaded first): a run where a stalled
      // WebRTC stream left one tab out is run again; every run must match
      const owners = new Set<string>()
      let shared: VideoRun | undefined
      for (let run = 0; run < 3 && !ids.every(id => owners.has(id)); run++) {
        shared = await videoJob(first, clip, { placement: 'everyone' })
        expect(shared.hashes).toEqual(local.hashes)
        expect(shared.file).toBe(local.file)
        for (const o of shared.owners) owners.add(o)
      }
      expect([...owners].sort()).toEqual([...ids].sort())
      if (shared == null) throw new Error('no shared run')

      // streaming: a unit went out before the source was completely read
      const started = shared.events.findIndex(e => e.type === 'video:unit-started')
      const closed = shared.events.findIndex(e => e.type === 'video:source-closed')
      expect(started).toBeGreaterThanOrEqual(0)
      expect(started).toBeLessThan(closed)

      const input = await probeVideo(join(CLIPS, clip))
      const outPath = join(dir, shared.fileName)
      writeFileSync(outPath, Buffer.from(shared.file, 'base64'))
      const output = await probeVideo(outPath)
      expect(output.frames).toBe(input.frames)
      expect(shared.frames).toBe(input.frames)
      expect(output.width).toBe(input.width)
      expect(output.height).toBe(input.height)
      expect(output.ptsList).toEqual(input.ptsList)
      expect(Math.abs(output.durationS - input.durationS)).toBeLessThan(0.05)
      expect(output.audioHash).toBe(input.audioHash)
    })
  }

  test('h264-720p.mp4: above 640×480 the filtered frames equal a one-tab run (their hashes), every frame in the file', async () => {
    const [first] = swarm.pages
    const clip = 'h264-720p.mp4'
    const local = await videoJob(first, clip, { local: true })
    const shared = await videoJob(first, clip, { placement: 'everyone' })
    // encoders pick threads from the cores above 640×480: the bytes may differ, the frames may not
    expect(shared.hashes).toEqual(local.hashes)
    expect(new Set(shared.owners).size).toBeGreaterThan(1)
    const input = await probeVideo(join(CLIPS, clip))
    const outPath = join(dir, `720p-${shared.fileName}`)
    writeFileSync(outPath, Buffer.from(shared.file, 'base64'))
    const output = await probeVideo(outPath)
    expect(output.frames).toBe(input.frames)
    expect(output.width).toBe(1280)
    expect(output.ptsList).toEqual(input.ptsList)
  })

  test('a worker tab closed mid-job changes nothing in the output', async () => {
    const [first] = swarm.pages
    const clip = 'vp8.webm'
    const local = await videoJob(first, clip, { local: true })
    const victim = swarm.pages[3]
    const job = videoJob(first, clip, { placement: 'everyone' })
    // close the tab while it computes a unit
    await victim.waitForFunction(() => (window as any).fedra.peer.worker.running > 0, undefined, { timeout: 60_000, polling: 20 })
    await swarm.contexts[3].close()
    const shared = await job
    expect(shared.hashes).toEqual(local.hashes)
    expect(shared.file).toBe(local.file)
    expect(shared.events.some(e => e.type === 'video:job')).toBe(true)
  })
})
