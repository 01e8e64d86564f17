import { expect, test } from '@playwright/test'
import { newRoomSecret, toBase64Url } from '../src/core/room/link.js'
import { launchBrowser, openPage, startRelay, waitForMesh } from './harness.js'
import type { Relay } from './harness.js'
import type { Browser, Page } from 'playwright-core'

/**
 * The data plane between real tabs (docs/data-plane.md): large inputs and
 * outputs move once, directly from the peer that holds them
 * (`/fedra/blocks/1.0.0`), split between holders when several have it,
 * hash-checked, with progress; a peer without the room key gets nothing,
 * over either protocol. `__fedraSentBytes` (harness) counts what each page
 * put on its WebRTC data channels.
 */
let relay: Relay
let browser: Browser
let tabs: Page[]
let ids: string[]
const requests: string[] = []

type W = any

async function sent (page: Page): Promise<number> {
  return page.evaluate(() => (window as W).__fedraSentBytes as number)
}

/** Stores `n` random bytes in `page`; returns the CID and their SHA-256. */
async function store (page: Page, n: number): Promise<{ cid: string, hash: string }> {
  return page.evaluate(async (n) => {
    const bytes = new Uint8Array(n)
    for (let i = 0; i < n; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(n, i + 65536)))
    const hex = (b: ArrayBuffer): string => [...new Uint8Array(b)].map(x => x.toString(16).padStart(2, '0')).join('')
    return { cid: await (window as W).fedra.peer.blocks.put(bytes) as string, hash: hex(await crypto.subtle.digest('SHA-256', bytes)) }
  }, n)
}

test.beforeAll(async () => {
  relay = await startRelay()
  ;({ browser } = await launchBrowser())
  const first = await openPage(browser, relay.url, requests)
  const rest = await Promise.all([1, 2].map(async () => openPage(browser, first.page.url(), requests)))
  tabs = [first.page, ...rest.map(r => r.page)]
  await waitForMesh(tabs)
  ids = await Promise.all(tabs.map(async p => p.evaluate(() => (window as W).fedra.peer.id as string)))
  // the worker tab volunteers (the app starts with consent off)
  await tabs[1].evaluate(() => { (window as W).fedra.peer.consent = true })
})

test.afterAll(async () => {
  await browser?.close()
  await relay?.stop()
})

for (const [width, height] of [[2000, 1500], [4000, 2500]] as const) {
  const mb = Math.round(width * height * 4 / 1e6)
  test(`a ${mb} MB input goes to a worker and its ${mb} MB output comes back, each moved once from the peer that holds it`, async () => {
    test.setTimeout(240_000)
    const [owner, worker] = tabs
    const n = width * height * 4
    const input = await store(owner, n)
    const before = await Promise.all([sent(owner), sent(worker)])
    const r = await owner.evaluate(async ({ cid, width, height, n, workerId }) => {
      const fedra = (window as W).fedra
      const fnCid = await fedra.functionCid('invert')
      const params = new Uint8Array(8)
      new DataView(params.buffer).setUint32(0, width, true)
      new DataView(params.buffer).setUint32(4, height, true)
      const t0 = performance.now()
      // what the job runner sends: the input's CID with the owner as its provider
      const result = await fedra.peer.submitTo(workerId, {
        id: `big-${n}`, job: 'data-plane', epoch: 0,
        fn: { cid: fnCid, bytes: fedra.peer.worker.functions.get(fnCid) }, entry: 'invert',
        input: { cid, from: fedra.peer.id }, params,
        limits: { memoryPages: Math.ceil((n + 8192) / 65536) + 1, timeoutMs: 120_000 }, output: 'store'
      }, { signal: AbortSignal.timeout(180_000) })
      const taskMs = performance.now() - t0
      let received = 0
      let total: number | undefined
      const t1 = performance.now()
      const out: Uint8Array = await fedra.peer.blocks.get(result.output.cid, {
        providers: [result.output.from],
        signal: AbortSignal.timeout(120_000),
        onProgress: (e: W) => { received = e.detail.received; total = e.detail.total }
      })
      const fetchMs = performance.now() - t1
      // the function inverts red, green and blue and keeps alpha
      const src: Uint8Array = await fedra.peer.blocks.get(cid)
      let wrong = out.byteLength === src.byteLength ? 0 : 1
      for (let i = 0; i < src.byteLength && wrong === 0; i++) {
        if (out[i] !== ((i & 3) === 3 ? src[i] : 255 - src[i])) wrong++
      }
      return { from: result.output.from as string, received, total, size: out.byteLength, wrong, taskMs, fetchMs }
    }, { cid: input.cid, width, height, n, workerId: ids[1] })
    const after = await Promise.all([sent(owner), sent(worker)])
    console.log(`${mb} MB: task (input fetch + run + store) ${r.taskMs.toFixed(0)} ms, output fetch ${r.fetchMs.toFixed(0)} ms (${(n / 1048576 / (r.fetchMs / 1000)).toFixed(1)} MiB/s); sent by owner ${after[0] - before[0]} B, by worker ${after[1] - before[1]} B`)
    expect(r.from).toBe(ids[1])
    expect(r.size).toBe(n)
    expect(r.wrong).toBe(0)
    // progress came from the direct fetch, up to the whole DAG
    expect(r.received).toBe(r.total)
    expect(r.received).toBeGreaterThanOrEqual(n)
    // the input went owner → worker once, the output worker → owner once
    for (const moved of [after[0] - before[0], after[1] - before[1]]) {
      expect(moved).toBeGreaterThanOrEqual(n)
      expect(moved).toBeLessThanOrEqual(1.1 * n)
    }
  })
}

test('a third tab fetching a 12 MB file that two peers hold moves it once, split between them', async () => {
  const [a, b, c] = tabs
  const n = 12_000_000
  const { cid, hash } = await store(a, n)
  // b fetches it from a, and holds it once its background store is done
  await b.evaluate(async ({ cid, from }) => {
    const blocks = (window as W).fedra.peer.blocks
    await blocks.get(cid, { providers: [from], signal: AbortSignal.timeout(60_000) })
    for (let i = 0; i < 600 && !(await blocks.has(cid)); i++) await new Promise(resolve => setTimeout(resolve, 100))
  }, { cid, from: ids[0] })
  expect(await b.evaluate(async (cid) => (window as W).fedra.peer.blocks.has(cid), cid)).toBe(true)
  const before = await Promise.all([sent(a), sent(b)])
  const got = await c.evaluate(async ({ cid, providers }) => {
    const bytes: Uint8Array<ArrayBuffer> = await (window as W).fedra.peer.blocks.get(cid, { providers, signal: AbortSignal.timeout(60_000) })
    return [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map(x => x.toString(16).padStart(2, '0')).join('')
  }, { cid, providers: [ids[0], ids[1]] })
  const after = await Promise.all([sent(a), sent(b)])
  const [byA, byB] = [after[0] - before[0], after[1] - before[1]]
  const moved = byA + byB
  console.log(`2 providers: ${moved} B sent for a ${n} B file (${(moved / n).toFixed(3)}×): ${byA} B by the owner, ${byB} B by the other holder`)
  expect(got).toBe(hash)
  expect(moved).toBeLessThanOrEqual(1.1 * n)
  // both holders sent a share (12 leaves: 6 and 6 unless one of them failed)
  expect(byA).toBeGreaterThan(0.25 * n)
  expect(byB).toBeGreaterThan(0.25 * n)
})

test('a peer without the room key gets no block, even connected directly to a holder, directly or over bitswap', async () => {
  const [a] = tabs
  const { cid } = await store(a, 100_000)
  // same room id, another key: what someone who guessed or cut the link has
  const url = new URL(a.url())
  url.hash = `/r/${url.hash.slice(4).split('.')[0]}.${toBase64Url(newRoomSecret().key)}`
  const intruder = (await openPage(browser, url.toString(), requests)).page
  const addrs = await a.evaluate(() => (window as W).fedra.peer.addresses() as string[])
  await intruder.evaluate(async (addrs) => { await (window as W).fedra.peer.dial(addrs) }, addrs)
  const before = await sent(a)
  const r = await intruder.evaluate(async ({ cid, from }) => {
    try {
      await (window as W).fedra.peer.blocks.fetchFrom(cid, [from], { signal: AbortSignal.timeout(10_000) })
      return 'fetched'
    } catch (err) {
      return (err as Error).name
    }
  }, { cid, from: ids[0] })
  expect(r).toBe('NotRoomMemberError')
  // a refusal, not the 100 kB block (what `a` sent meanwhile is the room's
  // own traffic: beats, gossip, pings, a few kB on a loaded machine)
  expect(await sent(a) - before).toBeLessThan(50_000)

  // bitswap too: a hostile client that skips its own check (it counts the
  // holder as a member and tells its bitswap so) asks the holder by CID
  const refusedBefore = await a.evaluate(() => (window as W).fedra.peer.blocks.refusedBitswap as number)
  const beforeBitswap = await sent(a)
  const viaBitswap = await intruder.evaluate(async ({ cid, from }) => {
    const peer = (window as W).fedra.peer
    peer.members.add(from)
    peer.blocks.admit(from)
    try {
      await peer.blocks.get(cid, { signal: AbortSignal.timeout(8000) })
      return 'fetched'
    } catch (err) {
      return (err as Error).name
    }
  }, { cid, from: ids[0] })
  expect(viaBitswap).toBe('BlockError')
  // the holder refused the want-list's stream (after the handshake's grace)
  // and sent no block: over these ~10 s it sent only the room's own traffic
  // (beats, gossip, pings: a few kB), not the 100 kB block
  await a.waitForFunction((n) => (window as W).fedra.peer.blocks.refusedBitswap > n, refusedBefore, { timeout: 10_000 })
  expect(await sent(a) - beforeBitswap).toBeLessThan(50_000)
  await intruder.close()
})
