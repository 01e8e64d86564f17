import { readFileSync } from 'node:fs'
import { expect, test } from '@playwright/test'
import { newRoomSecret, toBase64Url } from '../src/core/room/link.js'
import { rawCid } from '../src/storage/blocks.js'
import { launchBrowser, openPage, startRelay, waitForMesh } from './harness.js'
import type { Relay } from './harness.js'
import type { Browser, Page } from 'playwright-core'

/**
 * The room's boundaries over real connections: a tab without the room key
 * can neither submit nor receive work, and hostile or malformed tasks get
 * typed errors while the worker keeps serving.
 */
let relay: Relay
let browser: Browser
let members: Page[]
let intruder: Page
const requests: string[] = []

async function idOf (page: Page): Promise<string> {
  return page.evaluate(() => (window as any).fedra.peer.id as string)
}

/**
 * Runs `submitTo` from `from` to `to` and returns the error name, or
 * 'ok:<output length>'. A WorkerLostError says nothing about the task (the
 * stream dropped; the job runner would re-queue it), so that one is retried.
 */
async function submit (from: Page, to: string, task: Parameters<typeof submitOnce>[2]): Promise<string> {
  const first = await submitOnce(from, to, task)
  return first === 'WorkerLostError' ? submitOnce(from, to, task) : first
}

async function submitOnce (from: Page, to: string, task: { module?: number[], moduleName?: string, cid?: string, entry: string, input: number[] | { size: number }, params?: number[], timeoutMs?: number, inputCid?: string }): Promise<string> {
  return from.evaluate(async ({ to, task }) => {
    const fedra = (window as any).fedra
    let cid: string
    let bytes: Uint8Array | undefined
    if (task.module != null) {
      bytes = new Uint8Array(task.module)
      cid = task.cid ?? await fedra.peer.publishFunction(bytes)
    } else {
      cid = await fedra.functionCid(task.moduleName)
    }
    const input = Array.isArray(task.input) ? new Uint8Array(task.input) : new Uint8Array(task.input.size)
    try {
      const r = await fedra.peer.submitTo(to, {
        id: `probe-${Math.random().toString(36).slice(2)}`, job: 'probe', epoch: 0,
        fn: bytes != null ? { cid, bytes } : { cid },
        entry: task.entry,
        input: task.inputCid != null ? { cid: task.inputCid } : { bytes: input },
        params: new Uint8Array(task.params ?? []),
        limits: { memoryPages: 16, timeoutMs: task.timeoutMs ?? 5000 },
        output: 'inline'
      }, { signal: AbortSignal.timeout(20_000) })
      return `ok:${r.output.bytes.length}`
    } catch (err) {
      return (err as Error).name
    }
  }, { to, task })
}

function hostile (name: string): number[] {
  return [...readFileSync(`.cache/filters/hostile/${name}.wasm`)]
}

test.beforeAll(async () => {
  relay = await startRelay()
  ;({ browser } = await launchBrowser())
  const first = await openPage(browser, relay.url, requests)
  const second = await openPage(browser, first.page.url(), requests)
  members = [first.page, second.page]
  // same room id, another key: what someone who guessed or cut the link has
  const url = new URL(first.page.url())
  const roomId = url.hash.slice(4).split('.')[0]
  url.hash = `/r/${roomId}.${toBase64Url(newRoomSecret().key)}`
  intruder = (await openPage(browser, url.toString(), requests)).page
  await waitForMesh(members)
})

test.afterAll(async () => {
  await browser?.close()
  await relay?.stop()
})

test('a tab without the room key can neither submit nor receive work', async () => {
  const [a, b] = members
  const [aId, intruderId] = await Promise.all([idOf(a), idOf(intruder)])
  // it never hears the room: the topic and the messages need the key
  expect(await intruder.evaluate(() => (window as any).fedra.peer.registry.size)).toBe(0)
  expect(await a.evaluate((id) => (window as any).fedra.peer.registry.has(id), intruderId)).toBe(false)

  // it can still reach a member's WebRTC address through the relay...
  const addrs = await a.evaluate(() => (window as any).fedra.peer.addresses() as string[])
  await intruder.evaluate(async (addrs) => { await (window as any).fedra.peer.dial(addrs) }, addrs)
  // ...but fails the challenge, both ways
  const verify = await intruder.evaluate(async (id) => {
    try { await (window as any).fedra.peer.verify(id); return 'verified' } catch (err) { return (err as Error).name }
  }, aId)
  expect(verify).toBe('NotRoomMemberError')
  const completedBefore = await a.evaluate(() => (window as any).fedra.peer.worker.completed as number)
  expect(await submit(intruder, aId, { moduleName: 'echo', entry: 'echo', input: [1, 2, 3] })).toBe('NotRoomMemberError')
  expect(await a.evaluate(() => (window as any).fedra.peer.worker.completed as number)).toBe(completedBefore)
  const reverse = await a.evaluate(async (id) => {
    try { await (window as any).fedra.peer.verify(id); return 'verified' } catch (err) { return (err as Error).name }
  }, intruderId)
  expect(reverse).toBe('NotRoomMemberError')
  // members still work together
  expect(await submit(b, aId, { moduleName: 'echo', entry: 'echo', input: [1, 2, 3] })).toBe('ok:3')
})

test('hostile and malformed tasks get typed errors; the worker keeps serving', async () => {
  const [a, b] = members
  const bId = await idOf(b)
  const ok = async (): Promise<void> => {
    expect(await submit(a, bId, { moduleName: 'echo', entry: 'echo', input: [9, 8, 7, 6] })).toBe('ok:4')
  }
  expect(await submit(a, bId, { module: hostile('loop'), entry: 'spin', input: [1], timeoutMs: 500 })).toBe('DeadlineExceededError')
  await ok()
  expect(await submit(a, bId, { module: hostile('memhog'), entry: 'hog', input: [1] })).toBe('MemoryLimitError')
  await ok()
  expect(await submit(a, bId, { module: hostile('trap'), entry: 'crash', input: [1] })).toBe('FunctionTrapError')
  expect(await submit(a, bId, { module: hostile('trap'), entry: 'fail', input: [1] })).toBe('FunctionFailedError')
  expect(await submit(a, bId, { module: hostile('badptr'), entry: 'lie', input: [1] })).toBe('InvalidModuleError')
  expect(await submit(a, bId, { module: hostile('forbidden'), entry: 'steal', input: [1] })).toBe('InvalidModuleError')
  expect(await submit(a, bId, { module: [0, 97, 115, 109, 1, 0, 0, 0, 255, 255], entry: 'run', input: [1] })).toBe('InvalidModuleError')
  // module bytes that do not match the CID they claim
  // (a cached module is never replaced by pushed bytes, so name one B lacks)
  const otherCid = await rawCid(new TextEncoder().encode('not the trap module'))
  expect(await submit(a, bId, { module: hostile('trap'), cid: otherCid, entry: 'crash', input: [1] })).toBe('InvalidModuleError')
  await ok()
  // malformed: an entry name over the protocol's limit
  expect(await submit(a, bId, { moduleName: 'echo', entry: 'e'.repeat(100), input: [1] })).toBe('InvalidMessageError')
  // oversized inline input: refused by the receiver's validation
  expect(await submit(a, bId, { moduleName: 'echo', entry: 'echo', input: { size: 2 * 1024 * 1024 } })).toBe('InvalidMessageError')
  // bigger than a frame may be: refused before sending
  expect(await submit(a, bId, { moduleName: 'echo', entry: 'echo', input: { size: 3 * 1024 * 1024 } })).toBe('MessageTooLargeError')
  // a CID that nobody in the room holds
  expect(await submit(a, bId, { moduleName: 'echo', entry: 'echo', input: [], inputCid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', timeoutMs: 1500 })).toBe('BlockError')
  await ok()
  for (const url of requests) expect(new URL(url).hostname).toBe('127.0.0.1')
})
