import { execFile } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import AxeBuilder from '@axe-core/playwright'
import { expect, test } from '@playwright/test'
import { CHROMIUM, CHROMIUM_ARGS, fakeCameraArgs, launchBrowser, openPage, startRelay } from './harness.js'
import { probeVideo } from './media-probe.js'
import type { Browser, Page } from 'playwright-core'
import type { Relay } from './harness.js'

/**
 * Filtering while recording, as a person does it (docs/ui.md, by role and
 * accessible name): three volunteering tabs in a room; one ticks a filter
 * and presses Record — a real MediaRecorder records Chromium's camera,
 * fed from real footage (scripts/test-clips.sh: camera.y4m from
 * opencv-doc's vtest.avi) — and units go out to the room while the camera
 * still records; after Stop the filtered file downloads and plays with
 * every recorded frame at its time.
 */
const CAMERA = resolve('.cache/clips/camera.y4m')
const run = promisify(execFile)

/** The recording and the filtered file stay here for a look after the run. */
const OUT = 'test-results/record'

let relay: Relay
let browser: Browser
let dataDir: string

test.beforeAll(async () => {
  mkdirSync(OUT, { recursive: true })
  relay = await startRelay()
  ;({ browser, dataDir } = await launchBrowser(CHROMIUM, [...CHROMIUM_ARGS, ...fakeCameraArgs(CAMERA)]))
})

test.afterAll(async () => {
  await browser?.close()
  await relay?.stop()
  if (dataDir != null) rmSync(dataDir, { recursive: true, force: true })
})

async function show (page: Page, screen: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: screen, exact: true }).click()
  await expect(page.getByRole('heading', { level: 2, name: screen, exact: true })).toBeVisible()
}

test('a recording goes out to the room while it is recorded; the filtered file is ready after Stop', async () => {
  test.setTimeout(180_000)
  const requests: string[] = []
  const { page: ana } = await openPage(browser, relay.url, requests, { permissions: ['camera'] })
  const roomUrl = await ana.getByRole('textbox', { name: 'Room link' }).inputValue()
  await Promise.all([openPage(browser, roomUrl, requests), openPage(browser, roomUrl, requests)])
  await show(ana, 'Room')
  const people = ana.getByRole('list', { name: 'People in the room' })
  await expect(people.getByRole('listitem')).toHaveCount(3, { timeout: 30_000 })
  await expect(people.getByText('room key checked')).toHaveCount(2, { timeout: 60_000 })

  // the chain is ticked first: Record then filters as it records
  await show(ana, 'Edit')
  await ana.getByRole('group', { name: 'Filters' }).getByRole('checkbox', { name: 'Grayscale', exact: true }).check()
  await expect(ana.getByText(/Record filters as you film/)).toBeVisible()
  await ana.getByRole('button', { name: 'Record', exact: true }).click()
  const status = ana.getByRole('status', { name: 'Recording' })
  await expect(ana.getByRole('button', { name: 'Stop recording', exact: true })).toBeVisible()
  await expect(ana.getByRole('button', { name: 'Filter video', exact: true })).toBeDisabled()
  // the clip card while recording, as a phone shows it; axe finds nothing
  // serious in it (the rest of Edit is checked by app.spec.ts)
  await ana.setViewportSize({ width: 360, height: 640 })
  mkdirSync('test-results/screens', { recursive: true })
  await ana.screenshot({ path: 'test-results/screens/edit-recording-phone.png', fullPage: true })
  const axe = await new AxeBuilder({ page: ana as never }).include('section[aria-labelledby="clip-h"]').analyze()
  expect(axe.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id)).toEqual([])

  // record about 4 s, and on until a unit has gone out to the room: the
  // recorder is still running, so it went out before Stop
  await expect(ana.getByRole('timer', { name: 'Recorded' })).toHaveText(/^([4-9]|\d\d+) s$/, { timeout: 60_000 })
  await expect(status).toContainText(/Grayscale: [1-9]\d* units? out to the room/, { timeout: 60_000 })
  const beforeStop = `${await ana.getByRole('timer', { name: 'Recorded' }).textContent()} recorded; ${await status.textContent()}`
  await ana.getByRole('button', { name: 'Stop recording', exact: true }).click()

  // Stop leads to the Job screen; the last units follow, then the file
  await expect(ana.getByRole('heading', { level: 2, name: 'Job', exact: true })).toBeVisible()
  const download = ana.getByRole('link', { name: 'Download', exact: true })
  await expect(download).toBeVisible({ timeout: 120_000 })
  await expect(ana.getByRole('progressbar', { name: 'Job progress' })).toHaveAttribute('aria-valuenow', '100')
  const ready = await ana.getByText(/Ready [\d.]+ s after you stopped recording/).textContent()
  console.log(`[record] before Stop: ${beforeStop}`)
  console.log(`[record] ${ready}`)

  const [file] = await Promise.all([ana.waitForEvent('download'), download.click()])
  const outPath = join(OUT, file.suggestedFilename())
  await file.saveAs(outPath)
  // the recording itself, as the page holds it (the Before video)
  const beforeUrl = await ana.getByLabel('Before', { exact: true }).getAttribute('src')
  const recorded = await ana.evaluate(async (url) => {
    const bytes = new Uint8Array(await (await fetch(url as string)).arrayBuffer())
    let bin = ''
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
    return btoa(bin)
  }, beforeUrl)
  const inPath = join(OUT, 'recorded.webm')
  writeFileSync(inPath, Buffer.from(recorded, 'base64'))

  const input = await probeVideo(inPath)
  const output = await probeVideo(outPath)
  console.log(`[record] recorded ${input.frames} frames, last at ${input.ptsList.at(-1)} ms; output ${output.frames} frames, ${output.durationS} s (both in ${OUT})`)
  expect(output.frames).toBeGreaterThan(0)
  // every recorded frame, at its time; the file lasts to the end of the last one
  const missing = input.ptsList.filter(t => !output.ptsList.includes(t))
  expect(output.frames, `frames at ${missing.join(', ')} ms are missing`).toBe(input.frames)
  expect(output.ptsList).toEqual(input.ptsList)
  const lastMs = input.ptsList[input.ptsList.length - 1]
  const frameMs = (lastMs - input.ptsList[0]) / (input.ptsList.length - 1)
  expect(Math.abs(output.durationS * 1000 - (lastMs + frameMs))).toBeLessThan(frameMs * 1.5)
  expect(output.width).toBe(input.width)
  // it decodes from end to end without an error (frames passed through at
  // their own times: a recording's irregular spacing is not an error)
  const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', outPath, '-map', '0:v', '-fps_mode', 'passthrough', '-f', 'null', '-'])
  expect(stderr).toBe('')
  // nothing left the machine (blob: URLs are the page's own clips)
  for (const url of requests.filter(u => !/^(blob|data):/.test(u))) expect(new URL(url).hostname).toBe('127.0.0.1')
})
