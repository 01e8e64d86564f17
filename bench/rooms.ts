import { startRelay, volunteer, waitForMesh } from '../e2e/harness.js'
import { launchThrottledBrowser, openThrottledTab } from '../e2e/cgroup.js'
import type { ThrottledBrowser } from '../e2e/cgroup.js'
import type { Page } from 'playwright-core'

/**
 * Rooms of cgroup-throttled browsers for the scheduling benchmarks
 * (bench/scheduling.bench.ts, bench/calibration.bench.ts): open a room of
 * one unthrottled submitter (volunteering off) and one throttled browser per
 * worker quota, warm it up, run spin or image jobs from a page, settle.
 *
 * Start-up: every browser starts **without a quota** (its cgroup only
 * accounts CPU), two at a time, and gets its real quota only after the mesh
 * formed and the functions were compiled (`warmUp`). Seven browsers starting
 * at 0.1–0.5 core each, three at a time, starved each other: WebRTC dials
 * that run past the room's 4 s dial timeout are retried on the next beat,
 * and on a loaded machine some pairs kept timing out (the N = 6 room once
 * did not mesh within 120 s). When a room still has not meshed after
 * `MESH_TRY_MS`, the pages short of peers are reloaded (a fresh peer id, so
 * no stalled dial of the old one can hold it back) and the wait starts
 * again, up to `MESH_TRIES` times; each try prints who sees whom.
 *
 * Every room gets a relay of its own. The relay's gossipsub scores peers
 * with the library's defaults, which penalise more than 10 peers on one IP
 * address (IPColocationFactorThreshold 10, weight −5) and keep the scores
 * of peers that left for an hour (retainScore): here every browser is
 * 127.0.0.1, so after ~10 browsers had come and gone (the N = 2 and N = 4
 * rooms) the relay stopped forwarding room heartbeats to and from the next
 * ones, which never learnt of anyone ("0/0" below) and the N = 6 room never
 * meshed, throttled or not. A fresh relay per room starts with no scores.
 */
export type W = any

const FILTER = process.env.BENCH_FILTER ?? 'blur'
const TILE = Number(process.env.BENCH_TILE ?? 256)
/** Quota (cores) while a browser starts and the mesh forms; null = unlimited (accounted only). */
const STARTUP_QUOTA: number | null = process.env.BENCH_STARTUP_QUOTA == null || process.env.BENCH_STARTUP_QUOTA === 'null' ? null : Number(process.env.BENCH_STARTUP_QUOTA)
/** Browsers launched at once while a room opens. */
const LAUNCH_BATCH = Number(process.env.BENCH_LAUNCH_BATCH ?? 2)
const MESH_TRY_MS = Number(process.env.BENCH_MESH_TRY_MS ?? 45_000)
const MESH_TRIES = Number(process.env.BENCH_MESH_TRIES ?? 3)

export interface Device {
  tb: ThrottledBrowser
  page: Page
  id: string
  /** Its quota in the benchmark (cores); null = unlimited. */
  quota: number | null
  name: string
}

export interface Room {
  submitter: Device
  workers: Device[]
  roomUrl: string
  meshMs: number
  /** Closes every browser, then stops the room's relay. */
  close: () => Promise<void>
}

export interface TaskEvent {
  /** ms since the job started (page clock). */
  t: number
  type: 'task-done' | 'requeued' | 'backup'
  workerId: string
  taskIds?: string[]
}

export interface JobRun {
  ms: number
  tasks: number
  hash: string
  owners: string[]
  /** Worker-reported run time of each task's winning copy, ms (spin jobs). */
  taskMs: number[]
  /** Time from the job's start until ≥50% / ≥90% of the tasks were done, ms. */
  t50: number
  t90: number
  /** Backup copies launched (spin jobs only; the page does not count them for image jobs). */
  backups: number
  /** Batch tasks cut (spin jobs with `batch`). */
  splits?: number
  /** Progress events (spin jobs). */
  events: TaskEvent[]
  /** Date.now() on the page when the job started (same clock as Node's here). */
  startedAt: number
  /** CPU seconds each device's cgroup used during the run, by peer id. */
  cpu: Map<string, number>
}

export type Workload = { kind: 'image', width: number, height: number } | { kind: 'spin', tasks: number, iters?: number }

export const sleep = async (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/**
 * A compute-bound function (hand-written WAT, 265 bytes, ABI v1): `spin`
 * reads u32le iterations and a u32le seed, runs an LCG that long and returns
 * its u32le state. Tiny input and output, so the network costs next to
 * nothing: the figures measure scheduling, not data movement.
 *   (func "spin" … (loop x = x*1103515245 + 12345; x ^= x >>> 13) … )
 * Source: docs/benchmarks-scheduling.md.
 */
export const SPIN_WASM_B64 = 'AGFzbQEAAAABEgNgAX8Bf2AAAX9gBH9/f38BfwMEAwABAgUDAQABBgwCfwFBgAgLfwFBAAsHMgQGbWVtb3J5AgALZmVkcmFfYWxsb2MAABBmZWRyYV9vdXRwdXRfcHRyAAEEc3BpbgACCp0BAz0BAX8jAQRAQYAIJABBACQBCyAAQQBIBEBBfw8LIwAhASABIABqQQdqQXhxJAAjAEGAgARLBEBBfw8LIAELBABBEAtYAQJ/QQEkASABQQhIBEBBfw8LIAAoAgAhBCAAKAIEIQUCQANAIARFDQEgBUHtnJmOBGxBueAAaiEFIAUgBUENdnMhBSAEQQFrIQQMAAsLQRAgBTYCAEEECw=='
export const SPIN_WASM_BYTES = 265
/** LCG steps per spin task: about 60 ms on a full core here (≈ 0.13 s at 0.5 core). */
export const SPIN_ITERS = Number(process.env.BENCH_SPIN_ITERS ?? 30_000_000)

/** What each page's peer reports about itself (after `fedra.ready`). */
async function peerIdOf (page: Page): Promise<string> {
  return page.evaluate(() => (window as W).fedra.peer.id as string)
}

async function openDevice (name: string, quota: number | null, url: string, startupQuota: number | null): Promise<Device> {
  // start-up and mesh formation without the device's quota (see the header);
  // it gets its real quota after the warm-up
  const tb = await launchThrottledBrowser({ name, quotaCores: quota == null || startupQuota == null ? null : Math.max(quota, startupQuota) })
  try {
    const d: Device = { tb, page: undefined as unknown as Page, id: '', quota, name }
    d.page = (await openThrottledTab(tb, url)).page
    d.id = await peerIdOf(d.page)
    return d
  } catch (err) {
    await tb.close()
    throw err
  }
}

/** Who each page reaches: "name connected/known" per page. */
async function meshReport (devices: Device[]): Promise<Array<{ d: Device, connected: number, known: number }>> {
  return Promise.all(devices.map(async d => {
    const r = await d.page.evaluate(() => {
      const p = (window as W).fedra.peer
      return { connected: p.connectedPeers().length as number, known: p.registry.list().length as number }
    }).catch(() => ({ connected: -1, known: -1 }))
    return { d, ...r }
  }))
}

/**
 * Waits for a full mesh; after each failed try reloads the pages that reach
 * fewer than everyone (fresh peer ids) and tries again.
 */
export async function meshUp (devices: Device[], roomUrl: string, tag: string): Promise<number> {
  const t0 = Date.now()
  for (let attempt = 1; ; attempt++) {
    try {
      await waitForMesh(devices.map(d => d.page), MESH_TRY_MS)
      return Date.now() - t0
    } catch (err) {
      const report = await meshReport(devices)
      console.error(`[${tag}] no full mesh after try ${attempt} (${Math.round((Date.now() - t0) / 1000)} s): ` + report.map(r => `${r.d.name} ${r.connected}/${r.known}`).join(', '))
      if (attempt >= MESH_TRIES) throw err
      const short = report.filter(r => r.connected < devices.length - 1).sort((a, b) => a.connected - b.connected)
      // the submitter keeps its room URL; reload at most half of the rest
      const reload = short.filter(r => r.d.quota != null).slice(0, Math.max(1, Math.floor(devices.length / 2)))
      for (const r of reload) {
        r.d.tb.setQuota(null)
        await r.d.page.goto(roomUrl)
        await r.d.page.waitForFunction(() => (window as W).fedra?.ready === true, undefined, { timeout: 60_000 })
        // volunteering is opt-in: a reloaded worker turns it on again, as openPage does
        await volunteer(r.d.page)
        r.d.id = await peerIdOf(r.d.page)
      }
    }
  }
}

/**
 * A relay of its own (serving the app from `dist`) + a submitter
 * (volunteering off, unthrottled but accounted) + one throttled browser per
 * worker quota, meshed.
 */
export async function openRoom (dist: string, tag: string, quotas: number[], opts: { startupQuota?: number | null } = {}): Promise<Room> {
  const startupQuota = opts.startupQuota !== undefined ? opts.startupQuota : STARTUP_QUOTA
  const all: Device[] = []
  const relay = await startRelay(dist)
  const close = async (): Promise<void> => {
    await Promise.all(all.map(async d => d.tb.close()))
    await relay.stop()
  }
  try {
    const t0 = Date.now()
    const submitter = await openDevice(`${tag}-sub`, null, relay.url, null)
    all.push(submitter)
    await submitter.page.evaluate(() => { (window as W).fedra.peer.consent = false })
    const roomUrl = submitter.page.url()
    const workers: Device[] = []
    // a few at a time: browsers starting up at once starve each other on 2 cores
    for (let i = 0; i < quotas.length; i += LAUNCH_BATCH) {
      const batch = await Promise.allSettled(quotas.slice(i, i + LAUNCH_BATCH).map(async (q, j) => openDevice(`${tag}-w${i + j}`, q, roomUrl, startupQuota)))
      for (const b of batch) if (b.status === 'fulfilled') { workers.push(b.value); all.push(b.value) }
      const failed = batch.find(b => b.status === 'rejected')
      if (failed != null) throw (failed as PromiseRejectedResult).reason
    }
    const launchMs = Date.now() - t0
    const meshMs = await meshUp([submitter, ...workers], roomUrl, tag)
    console.error(`[${tag}] ${workers.length} workers launched in ${Math.round(launchMs / 1000)} s, meshed ${Math.round(meshMs / 1000)} s later`)
    return { submitter, workers, roomUrl, meshMs, close }
  } catch (err) {
    await close()
    throw err
  }
}

/**
 * Replaces a worker whose browser was closed: a fresh browser (unthrottled
 * while it joins), connected to every other open device, its spin function
 * compiled, then its quota. Its place in `room.workers` keeps the new device.
 */
export async function reopenWorker (room: Room, i: number, others: Device[]): Promise<Device> {
  const old = room.workers[i]
  await old.tb.close()
  const d = await openDevice(`${old.name}r`, old.quota, room.roomUrl, null)
  room.workers[i] = d
  const prevClose = room.close
  room.close = async () => { await d.tb.close(); await prevClose() }
  await meshUp([...others, d], room.roomUrl, old.name)
  await runJob(d.page, [d], { local: true, work: { kind: 'spin', tasks: 2 } })
  d.tb.setQuota(d.quota)
  return d
}

/** Waits until each device's cgroup is near idle (start-up work, cancelled copies done). */
export async function settle (devices: Device[], maxMs = 15_000): Promise<void> {
  const until = Date.now() + maxMs
  for (const d of devices) {
    for (;;) {
      const c0 = d.tb.cpuSeconds()
      await sleep(400)
      const used = (d.tb.cpuSeconds() - c0) / 0.4
      if (!(used > 0.15 * (d.quota ?? 1)) || Date.now() > until) break
    }
  }
}

/**
 * Runs one job from `page` and times it from the page. Image jobs go through
 * `fedra.imageJob` and the 50% / 90% marks come from a page-side poller of
 * `fedra.state.progress`; spin jobs go through `fedra.peer.runTasks` with
 * the benchmark's own progress callback (which also counts backup copies and
 * records every event). `local` runs on the page's own device only. The page
 * exposes `__benchDone` (tasks done) and `__benchHalf` while it runs, for
 * `during` to act on.
 */
/**
 * `batch` (spin jobs): tasks of that many spin items each (batch tasks,
 * which the room may split and resume); the hash and owners stay per item.
 * `only` (a worker's peer id; spin jobs): every task on that one worker.
 */
export async function runJob (page: Page, devices: Device[], opts: { local: boolean, only?: string, backups?: boolean, work: Workload, batch?: number }, during?: (page: Page) => Promise<void>): Promise<JobRun> {
  const cpu0 = new Map(devices.map(d => [d.id, d.tb.cpuSeconds()]))
  const job = page.evaluate(async (o) => {
    const fedra = (window as W).fedra
    const t0 = performance.now()
    const startedAt = Date.now()
    const marks: Record<string, number> = {}
    const events: W[] = []
    ;(window as W).__benchHalf = false
    ;(window as W).__benchDone = 0
    ;(window as W).__benchStartedAt = startedAt
    const mark = (done: number, total: number): void => {
      ;(window as W).__benchDone = done
      for (const th of [0.5, 0.9]) if (marks[th] == null && done >= th * total) marks[th] = performance.now() - t0
      if (marks[0.5] != null) (window as W).__benchHalf = true
    }
    if (o.work.kind === 'image') {
      const ref = fedra.state.progress
      const poll = setInterval(() => {
        const p = fedra.state.progress
        if (p !== ref && p.total > 0) mark(p.done, p.total)
      }, 5)
      try {
        const r = await fedra.imageJob({ filter: o.filter, tileSize: o.tile, local: o.local, backups: o.backups, size: { width: o.work.width, height: o.work.height } })
        return { ms: r.ms as number, tasks: r.tiles.length as number, hash: r.hash as string, owners: r.owners as string[], taskMs: [] as number[], t50: marks[0.5] ?? NaN, t90: marks[0.9] ?? NaN, backups: NaN, events, startedAt }
      } finally {
        clearInterval(poll)
      }
    }
    const w = window as W
    if (w.__spinCid == null) {
      w.__spinCid = await fedra.peer.publishFunction(Uint8Array.from(atob(o.wasm), c => c.charCodeAt(0)))
    }
    const iters = o.work.iters ?? o.iters
    const inputs = Array.from({ length: o.work.tasks }, (_, i) => {
      const input = new Uint8Array(8)
      new DataView(input.buffer).setUint32(0, iters, true)
      new DataView(input.buffer).setUint32(4, i + 1, true)
      return input
    })
    const per = Math.max(1, o.batch ?? 1)
    const base = { fnCid: w.__spinCid, entry: 'spin', params: new Uint8Array(0), requirement: { runtime: 'wasm', memoryPages: 1 }, limits: { memoryPages: 1, timeoutMs: 120_000 } }
    const specs = per === 1
      ? inputs.map((input, i) => ({ ...base, id: `spin-${i}`, input: { bytes: input } }))
      : Array.from({ length: Math.ceil(inputs.length / per) }, (_, g) => {
        // the batch layout (src/core/protocol/batch.ts): u32 count, then per item u32 0 (no params), u32 8, the input
        const items = inputs.slice(g * per, (g + 1) * per)
        const bytes = new Uint8Array(4 + items.length * 16)
        const v = new DataView(bytes.buffer)
        v.setUint32(0, items.length, true)
        items.forEach((x, i) => { v.setUint32(4 + i * 16 + 4, 8, true); bytes.set(x, 4 + i * 16 + 8) })
        return { ...base, id: `spin-${g * per}`, input: { bytes }, items: items.length }
      })
    // "all on my own device", as localOnly() (not on window), or all on one
    // other worker (`only`): two in flight per slot
    const scheduler = o.local || o.only != null
      ? {
          name: o.local ? 'bench-local' : 'bench-only',
          place: (pending: W[], offers: W[]) => {
            const target = offers.find(x => o.local ? x.self : x.workerId === o.only)
            if (target == null) return []
            return pending.slice(0, Math.max(0, target.caps.slots * 2 - target.inFlight)).map(t => ({ taskId: t.id, workerId: target.workerId }))
          }
        }
      : undefined
    let backups = 0
    let splits = 0
    const out = await fedra.peer.runTasks(specs, {
      scheduler,
      backups: o.backups,
      onProgress: (e: W) => {
        const t = performance.now() - t0
        if (e.type === 'task-done') { mark(e.done, e.total); events.push({ t, type: e.type, workerId: e.workerId }) }
        if (e.type === 'backup') { backups++; events.push({ t, type: e.type, workerId: e.workerId, taskIds: [e.taskId] }) }
        if (e.type === 'split') splits++
        if (e.type === 'requeued') events.push({ t, type: e.type, workerId: e.workerId, taskIds: e.taskIds })
      }
    })
    const ms = performance.now() - t0
    // per item: a batch task's output holds its items' outputs (u32 count, then u32 length, bytes each)
    const itemOuts: Uint8Array[] = []
    const owners: string[] = []
    for (const s of specs) {
      const o = out.get(s.id)
      if (per === 1) { itemOuts.push(o.output); owners.push(o.workerId); continue }
      const b = o.output as Uint8Array
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
      let at = 4
      for (let i = 0; i < v.getUint32(0, true); i++) {
        const n = v.getUint32(at, true)
        itemOuts.push(b.subarray(at + 4, at + 4 + n))
        owners.push(o.itemWorkers?.[i] ?? o.workerId)
        at += 4 + n
      }
    }
    const all = new Uint8Array(itemOuts.length * 4)
    itemOuts.forEach((x, i) => { all.set(x.subarray(0, 4), i * 4) })
    const d = new Uint8Array(await crypto.subtle.digest('SHA-256', all))
    const hash = [...d].map(b => b.toString(16).padStart(2, '0')).join('')
    return { ms, tasks: specs.length, hash, owners, taskMs: specs.map(s => out.get(s.id).ms as number), t50: marks[0.5] ?? NaN, t90: marks[0.9] ?? NaN, backups, splits, events, startedAt }
  }, { ...opts, filter: FILTER, tile: TILE, wasm: SPIN_WASM_B64, iters: SPIN_ITERS })
  // a failing job must not leave `during` waiting for its whole timeout
  const failed = job.then(() => undefined, () => undefined)
  if (during != null) await Promise.race([during(page), failed])
  const r = await job
  return { ...r, cpu: new Map(devices.map(d => [d.id, d.tb.cpuSeconds() - (cpu0.get(d.id) ?? 0)])) }
}

/**
 * Warm-up: compiles the functions on every worker (unthrottled still), gives
 * each its real quota, then runs one swarm job so the submitter learns
 * every worker's speed.
 */
export async function warmUp (room: Room, kinds: Array<Workload['kind']>, imageSwarm?: Workload): Promise<void> {
  await Promise.all(room.workers.map(async w => {
    if (kinds.includes('image')) await runJob(w.page, [w], { local: true, work: { kind: 'image', width: TILE * 2, height: TILE } })
    if (kinds.includes('spin')) await runJob(w.page, [w], { local: true, work: { kind: 'spin', tasks: 2 } })
  }))
  for (const w of room.workers) w.tb.setQuota(w.quota)
  await settle(room.workers)
  if (kinds.includes('image') && imageSwarm != null) await runJob(room.submitter.page, [], { local: false, work: imageSwarm })
  if (kinds.includes('spin')) await runJob(room.submitter.page, [], { local: false, work: { kind: 'spin', tasks: room.workers.length * 4 } })
  await settle(room.workers)
}
