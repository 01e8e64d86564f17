import { mkdirSync, readFileSync } from 'node:fs'
import AxeBuilder from '@axe-core/playwright'
import { expect, test } from '@playwright/test'
import { probeVideo } from './media-probe.js'
import { launchBrowser, openPage, startRelay } from './harness.js'
import type { Browser, Page } from 'playwright-core'
import type { Relay } from './harness.js'

/**
 * The app as people use it, driven by role and accessible name only
 * (docs/ui.md): create a room, join it by its link from two more tabs,
 * name yourselves, switch volunteering on in two tabs; the room shows
 * everyone by name; a tab that never volunteers runs no task. Every screen
 * is photographed at phone and desktop size and checked with axe.
 */
const SHOTS = 'test-results/screens'
const SIZES = [{ tag: 'phone', width: 360, height: 640 }, { tag: 'desktop', width: 1280, height: 800 }]
const CLIP = '.cache/clips/vp8.webm'

async function show (page: Page, screen: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: screen, exact: true }).click()
  await expect(page.getByRole('heading', { level: 2, name: screen, exact: true })).toBeVisible()
}

/** A screenshot at each size and an axe check: no serious or critical violation. */
async function photographAndCheck (page: Page, screen: string): Promise<void> {
  await show(page, screen)
  for (const size of SIZES) {
    await page.setViewportSize({ width: size.width, height: size.height })
    await page.screenshot({ path: `${SHOTS}/${screen.toLowerCase()}-${size.tag}.png`, fullPage: true })
    const axe = await new AxeBuilder({ page: page as never }).analyze()
    const bad = axe.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    expect(bad.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) })), `${screen} at ${size.tag}`).toEqual([])
  }
}

async function setName (page: Page, name: string): Promise<void> {
  await show(page, 'Start')
  const field = page.getByRole('textbox', { name: 'Your name' })
  await field.fill(name)
  await field.press('Tab')
}

/** The page's peer is in a room: the header counts the people. */
async function joined (page: Page): Promise<void> {
  await expect(page.getByRole('banner')).toContainText(/\d+ in the room/, { timeout: 30_000 })
}

function person (page: Page, name: string) {
  return page.getByRole('list', { name: 'People in the room' }).getByRole('listitem', { name, exact: true })
}

let relay: Relay
let browser: Browser

test.beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true })
  relay = await startRelay()
  ;({ browser } = await launchBrowser())
})

test.afterAll(async () => {
  await browser?.close()
  await relay?.stop()
})

test('three tabs meet by the room link; only the two that volunteer compute', async () => {
  test.setTimeout(240_000)
  const requests: string[] = []
  // openPage waits for the app to start; volunteering is left to the test
  const { page: ana } = await openPage(browser, relay.url, requests, { volunteer: false })

  // create a room: a new link
  await show(ana, 'Start')
  const link = ana.getByRole('textbox', { name: 'Room link' })
  const first = await link.inputValue()
  await ana.getByRole('button', { name: 'New room', exact: true }).click()
  await expect(link).not.toHaveValue(first)
  await joined(ana)
  const roomUrl = await link.inputValue()
  expect(roomUrl).toMatch(/#\/r\/[\w-]+\.[\w-]+$/)
  await expect(ana.getByRole('img', { name: /QR code of the room link/ })).toBeVisible()
  await setName(ana, 'Ana')

  // the second tab opens the link; the third pastes it into "Join by link"
  const { page: bo } = await openPage(browser, roomUrl, requests, { volunteer: false })
  await setName(bo, 'Bo')
  const { page: cy } = await openPage(browser, relay.url, requests, { volunteer: false })
  await show(cy, 'Start')
  await cy.getByRole('textbox', { name: 'Join by link' }).fill(roomUrl)
  await Promise.all([cy.waitForEvent('load'), cy.getByRole('button', { name: 'Join', exact: true }).click()])
  await joined(cy)
  // joining lands on the Room screen; the link is on Start
  await expect(cy.getByRole('heading', { level: 2, name: 'Room', exact: true })).toBeVisible()
  await show(cy, 'Start')
  await expect(cy.getByRole('textbox', { name: 'Room link' })).toHaveValue(roomUrl)
  await setName(cy, 'Cy')

  // volunteering is off until a person turns it on
  for (const page of [ana, bo, cy]) await expect(page.getByRole('checkbox', { name: 'Volunteer', exact: true })).not.toBeChecked()
  await ana.getByRole('checkbox', { name: 'Volunteer', exact: true }).check()
  await bo.getByRole('checkbox', { name: 'Volunteer', exact: true }).check()

  // the room shows people by name, with their volunteering, over direct links
  await show(ana, 'Room')
  await expect(person(ana, 'Ana (you)')).toContainText('volunteers')
  await expect(person(ana, 'Bo')).toContainText('volunteers', { timeout: 30_000 })
  await expect(person(ana, 'Cy')).toContainText('does not volunteer', { timeout: 30_000 })
  await expect(person(ana, 'Bo')).toContainText('room key checked', { timeout: 60_000 })
  await expect(person(ana, 'Cy')).toContainText('room key checked', { timeout: 60_000 })
  await show(cy, 'Room')
  await expect(person(cy, 'Ana')).toContainText('volunteers', { timeout: 30_000 })
  await expect(person(cy, 'Cy (you)')).toContainText('does not volunteer')

  // a job from the Examples screen, spread over every volunteer: Ana and
  // Bo compute, Cy computes nothing (a stalled stream open can leave a
  // short job without Bo: up to three runs, as the swarm tests do)
  await show(ana, 'Examples')
  await ana.getByRole('combobox', { name: 'Place on' }).selectOption('everyone')
  await show(bo, 'Room')
  const boCount = bo.getByText(/Tasks computed here for the room: \d+/)
  for (let run = 0; run < 3; run++) {
    await ana.getByRole('button', { name: 'Filter image', exact: true }).click()
    await expect(ana.getByRole('status').filter({ hasText: /Done in \d+ ms/ })).toBeVisible({ timeout: 60_000 })
    if (!/: 0$/.test((await boCount.textContent()) ?? '')) break
  }
  await expect(boCount).not.toHaveText(/: 0$/, { timeout: 5_000 })
  await expect(cy.getByText(/Tasks computed here for the room: \d+/)).toHaveText(/: 0$/)
  // the one assertion read from the peer itself: Cy's worker ran nothing
  expect(await cy.evaluate(() => (window as any).fedra.peer.worker.completed as number)).toBe(0)

  // Edit: a clip, two filters in order, a tag; then the Job screen
  await show(ana, 'Edit')
  await ana.getByLabel('Open video').setInputFiles(CLIP)
  await expect(ana.getByLabel(/Preview of vp8\.webm/)).toBeVisible()
  const filters = ana.getByRole('group', { name: 'Filters' })
  await filters.getByRole('checkbox', { name: 'Pixelate', exact: true }).check()
  await filters.getByRole('checkbox', { name: 'Grayscale', exact: true }).check()
  await expect(ana.getByRole('slider', { name: 'Pixelate: Block size' })).toBeVisible()
  await expect(ana.getByText('Applied in this order: Grayscale → Pixelate')).toBeVisible()
  await ana.getByRole('button', { name: 'Move Pixelate up' }).click()
  await ana.getByRole('button', { name: 'Move Pixelate up' }).click()
  await expect(ana.getByText('Applied in this order: Pixelate → Grayscale')).toBeVisible()
  await ana.getByRole('group', { name: 'Who is in this clip?' }).getByRole('checkbox', { name: 'Bo' }).check()
  await photographAndCheck(ana, 'Edit')
  await ana.getByRole('button', { name: 'Filter video', exact: true }).click()
  await expect(ana.getByRole('progressbar', { name: 'Job progress' })).toHaveAttribute('aria-valuenow', /\d+/)
  await expect(ana.getByText(/In it: Bo/)).toBeVisible()

  for (const screen of ['Job', 'Start', 'Room', 'Examples']) await photographAndCheck(ana, screen)
  // nothing leaves the machine (blob: URLs are the page's own clips)
  for (const url of requests.filter(u => !/^(blob|data):/.test(u))) expect(new URL(url).hostname).toBe('127.0.0.1')
})

test('an invalid .wasm filter is refused with the reason', async () => {
  const { page, context } = await openPage(browser, relay.url, [], { volunteer: false })
  await show(page, 'Edit')
  const boxes = page.getByRole('group', { name: 'Filters' }).getByRole('checkbox')
  const before = await boxes.count()
  await page.getByLabel('Add filter (.wasm)').setInputFiles({ name: 'broken.wasm', mimeType: 'application/wasm', buffer: Buffer.from('not wasm at all') })
  await expect(page.getByRole('alert')).toContainText('This filter cannot be used')
  await expect(boxes).toHaveCount(before)
  await context.close()
})

test('a clip filtered in the room with a built-in filter and one a person shared downloads as a playable file with every frame', async () => {
  test.setTimeout(240_000)
  const requests: string[] = []
  const { page: ana } = await openPage(browser, relay.url, requests)
  const roomUrl = await ana.getByRole('textbox', { name: 'Room link' }).inputValue()
  const { page: bo } = await openPage(browser, roomUrl, requests)
  await show(ana, 'Room')
  await expect(ana.getByRole('list', { name: 'People in the room' }).getByRole('listitem')).toHaveCount(2, { timeout: 30_000 })
  await expect(ana.getByRole('list', { name: 'People in the room' }).getByText('room key checked')).toBeVisible({ timeout: 60_000 })
  // Bo adds a filter of their own: it is offered to everyone in the room, and runs by CID
  await show(bo, 'Edit')
  await bo.getByLabel('Add filter (.wasm)').setInputFiles({ name: 'my-invert.wasm', mimeType: 'application/wasm', buffer: readFileSync('public/filters/invert.wasm') })
  await expect(bo.getByRole('group', { name: 'Filters' }).getByRole('checkbox', { name: 'my-invert', exact: true })).toBeChecked()

  await show(ana, 'Edit')
  await ana.getByLabel('Open video').setInputFiles(CLIP)
  const filters = ana.getByRole('group', { name: 'Filters' })
  await filters.getByRole('checkbox', { name: 'Grayscale', exact: true }).check()
  await filters.getByRole('checkbox', { name: 'my-invert', exact: true }).check({ timeout: 30_000 })
  await ana.getByRole('button', { name: 'Filter video', exact: true }).click()
  // Pause holds new units back and says so; Resume goes on to the end
  await ana.getByRole('button', { name: 'Pause', exact: true }).click()
  await expect(ana.getByText(/^Paused: \d+ of/)).toBeVisible()
  await ana.getByRole('button', { name: 'Resume', exact: true }).click()
  await expect(ana.getByText(/^Paused: /)).toHaveCount(0)
  const download = ana.getByRole('link', { name: 'Download', exact: true })
  await expect(download).toBeVisible({ timeout: 180_000 })
  await expect(ana.getByRole('progressbar', { name: 'Job progress' })).toHaveAttribute('aria-valuenow', '100')
  const [file] = await Promise.all([ana.waitForEvent('download'), download.click()])
  const path = `test-results/app-video-${file.suggestedFilename()}`
  await file.saveAs(path)
  const input = await probeVideo(CLIP)
  const output = await probeVideo(path)
  expect(output.frames).toBe(input.frames)
  expect(output.ptsList).toEqual(input.ptsList)
})
