/**
 * The still-image and word-count examples (the Examples screen), and the
 * handles tests and benchmarks drive through `window.fedra`: imageJob,
 * wordCount, functionCid, adoptBoard, boards and the job `state`. Their
 * options and results are the contract of every e2e test and bench.
 */
import { signal } from '@preact/signals'
import { sha256Hex } from '../core/digest.js'
import { localOnly } from '../core/scheduler/local-only.js'
import { leastLoaded } from '../core/scheduler/least-loaded.js'
import { FILTERS, findFilter } from '../filters/catalog.js'
import { runImageJob } from '../peer/image-job.js'
import { runWordCount } from '../peer/wordcount-job.js'
import { demoImage, demoText } from './demo-data.js'
import type { ApplicationScheduler } from '../core/scheduler/types.js'
import type { Bridge } from '../mcu/bridge.js'
import type { SerialPortLike } from '../mcu/link-web-serial.js'
import type { ImageJobResult } from '../peer/image-job.js'
import type { JobProgress } from '../peer/job-runner.js'
import type { FedraPeer } from '../peer/peer.js'

export type Placement = 'fastest' | 'everyone' | 'local'

export interface Rgba { rgba: Uint8Array, width: number, height: number }

/** The Examples screen's controls and outputs. */
export const controls = {
  filter: signal(FILTERS.find(f => f.kind === 'image')?.name ?? 'grayscale'),
  tileSize: signal(64),
  tilesPerTask: signal(1),
  placement: signal<Placement>('fastest'),
  quorum: signal(1)
}
export const original = signal<Rgba>({ rgba: demoImage(), width: 512, height: 384 })
export const result = signal<(Rgba & { job: ImageJobResult }) | null>(null)
export const jobStatus = signal('')
export const jobBar = signal({ value: 0, max: 1 })
export const wordCountText = signal('')
/** Peer id → why it took no task in the last job (the devices table shows it). */
export const idleNotes = signal(new Map<string, string>())
/** A text file the person picked for word count. */
export const text = signal<Uint8Array | undefined>(undefined)

export interface ImageJobOptions {
  filter?: string
  tileSize?: number
  /** Tiles per task (default: the page's choice); above 1 tasks can be split at the end of a job. */
  tilesPerTask?: number
  /** Same as placement 'local'. */
  local?: boolean
  /** Default: the page's "Place on" choice (fastest finish). */
  placement?: Placement
  backups?: boolean
  quorum?: number
  waitForWorkers?: boolean
  /** Override the filter's memory requirement (to try admission control). */
  memoryPages?: number
  size?: { width: number, height: number }
}

export interface WordCountResult { hash: string, counts: Array<{ word: string, count: number }>, owners: Record<string, string>, ms: number }

const shortId = (id: string): string => `…${id.slice(-6)}`

/** The application scheduler for a placement choice: undefined is the peer's default (ECT). */
function schedulerFor (placement: Placement): ApplicationScheduler | undefined {
  return placement === 'local' ? localOnly() : placement === 'everyone' ? leastLoaded() : undefined
}
const chosenPlacement = (opts: { local?: boolean, placement?: Placement }): Placement =>
  opts.local === true ? 'local' : opts.placement ?? controls.placement.value

/** Job events into `state` (what tests read) and the status line (what people read). */
function newJobState () {
  return {
    /** Volunteers that took no task in the last job, and why (the devices table shows the same). */
    get idle (): Array<{ id: string, reason: string }> { return [...idleNotes.value].map(([id, reason]) => ({ id, reason })) },
    progress: { done: 0, total: 0 }, requeued: 0, requeueReasons: [] as string[], requeuedTasks: [] as Array<{ taskId: string, workerId: string }>, moved: 0, movedTasks: [] as Array<{ taskId: string, from: string, to: string }>, backups: 0, backupTasks: [] as Array<{ taskId: string, runningOn: string[] }>, splits: 0, splitTasks: [] as Array<{ taskId: string, pieceId: string, from: string, to: string, items: number }>, paused: '', liars: [] as string[], failures: [] as Array<{ taskId: string, workerId: string, code: string, message: string }>
  }
}
export type JobState = ReturnType<typeof newJobState>

function progressInto (state: JobState): (e: JobProgress) => void {
  return (e) => {
    if (e.type === 'task-done') state.progress = { done: e.done, total: e.total }
    if (e.type === 'requeued') {
      state.requeued += e.taskIds.length
      if (state.requeueReasons.length < 16) state.requeueReasons.push(`${shortId(e.workerId)}: ${e.reason}`)
      for (const id of e.taskIds) if (state.requeuedTasks.length < 256) state.requeuedTasks.push({ taskId: id, workerId: e.workerId })
    }
    if (e.type === 'moved') {
      state.moved++
      if (state.movedTasks.length < 256) state.movedTasks.push({ taskId: e.taskId, from: e.from, to: e.to })
    }
    if (e.type === 'backup') {
      state.backups++
      state.backupTasks.push({ taskId: e.taskId, runningOn: e.runningOn })
    }
    if (e.type === 'split') {
      state.splits++
      if (state.splitTasks.length < 256) state.splitTasks.push({ taskId: e.taskId, pieceId: e.pieceId, from: e.from, to: e.to, items: e.items })
      jobStatus.value = e.to === ''
        ? `Split ${e.taskId}: peer ${shortId(e.from)} fell behind; its last ${e.items} tiles go to a faster peer`
        : `Split ${e.taskId}: its last ${e.items} tiles went from peer ${shortId(e.from)} to idle peer ${shortId(e.to)}`
    }
    if (e.type === 'task-failed') state.failures.push({ taskId: e.taskId, workerId: e.workerId, code: e.code, message: e.message })
    if (e.type === 'liar' && !state.liars.includes(e.workerId)) {
      state.liars.push(e.workerId)
      jobStatus.value = `Peer ${shortId(e.workerId)} returned a wrong result: it is no longer trusted`
    }
    if (e.type === 'paused') state.paused = e.reason
    if (e.type === 'resumed') state.paused = ''
    if (e.type === 'task-done') { jobBar.value = { value: e.done, max: e.total }; jobStatus.value = `${e.done}/${e.total} tasks done` }
    if (e.type === 'paused') jobStatus.value = `Paused: ${e.reason}. It resumes when a fitting volunteer joins.`
    if (e.type === 'resumed') jobStatus.value = 'Resumed: a fitting volunteer joined'
    if (e.type === 'requeued') jobStatus.value = `Peer ${shortId(e.workerId)}: ${e.reason}; ${e.taskIds.length} task${e.taskIds.length === 1 ? '' : 's'} re-queued`
  }
}

/**
 * Volunteers that took no task in the last job, and why: under placement
 * by ECT a device much slower than the rest gets nothing in a short job
 * (it would finish last); the devices table says so instead of letting it
 * vanish from use silently.
 */
function noteIdle (peer: FedraPeer, owners: readonly string[]): void {
  const used = new Set(owners)
  const peers = peer.registry.list().map(e => ({ e, speed: peer.estimator.speedOf(e.id, e.beat.caps) }))
  const fastest = Math.max(peer.estimator.speedOf(peer.id, peer.capabilities) ?? 0, ...peers.map(p => p.speed ?? 0))
  const notes = new Map<string, string>()
  for (const { e, speed } of peers) {
    if (!e.verified || !e.beat.consent || used.has(e.id)) continue
    const slower = speed == null ? undefined : fastest / speed
    notes.set(e.id, slower == null
      ? 'not measured yet: got no task'
      : slower < 1.5
        ? 'as fast as the others, but they finished every task first'
        : `too slow for this job: a task takes it ${slower.toFixed(slower < 10 ? 1 : 0)}× the fastest peer's time`)
  }
  idleNotes.value = notes
}

/** The examples' job functions over one started peer. */
export function createDemos (peer: FedraPeer, relays: string[]) {
  const state = newJobState()
  const progress = progressInto(state)

  // functions: the built-in filters, published into the room's repository
  const functionCids = new Map<string, string>()
  async function functionCid (name: string): Promise<string> {
    let cid = functionCids.get(name)
    if (cid == null) {
      const entry = findFilter(name)
      if (entry == null) throw new Error(`unknown filter ${name}`)
      const res = await fetch(`/filters/${entry.wasm}`)
      if (!res.ok) throw new Error(`filter ${name} is not built: run npm run build`)
      cid = await peer.publishFunction(new Uint8Array(await res.arrayBuffer()))
      functionCids.set(name, cid)
    }
    return cid
  }

  async function imageJob (opts: ImageJobOptions = {}): Promise<ImageJobResult & { hash: string }> {
    const entry = findFilter(opts.filter ?? controls.filter.value) ?? FILTERS[0]
    // tests and benchmarks ask for a test card of a given size
    const image = opts.size == null ? original.value : { rgba: demoImage(opts.size.width, opts.size.height), ...opts.size }
    const fnCid = await functionCid(entry.name)
    const r = await runImageJob(peer, {
      rgba: image.rgba, width: image.width, height: image.height,
      tileSize: opts.tileSize ?? controls.tileSize.value,
      tilesPerTask: opts.tilesPerTask ?? controls.tilesPerTask.value,
      fnCid, entry: entry.entry,
      params: tile => entry.encodeParams({ width: tile.width, height: tile.height }),
      memoryPages: bytes => opts.memoryPages ?? entry.memoryPagesFor(bytes),
      scheduler: schedulerFor(chosenPlacement(opts)),
      backups: opts.backups,
      quorum: opts.quorum ?? controls.quorum.value,
      waitForWorkers: opts.waitForWorkers ?? true,
      onProgress: progress
    })
    result.value = { rgba: r.rgba, width: image.width, height: image.height, job: r }
    if (chosenPlacement(opts) !== 'local') noteIdle(peer, r.owners)
    const hash = await sha256Hex(r.rgba)
    const used = new Set(r.owners).size
    jobStatus.value = `Done in ${r.ms.toFixed(0)} ms: ${r.tiles.length} tiles on ${used} peer${used === 1 ? '' : 's'}`
    return { ...r, hash }
  }

  async function wordCount (opts: { local?: boolean, placement?: Placement, bytes?: number } = {}): Promise<WordCountResult> {
    const entry = findFilter('wordcount')
    if (entry == null) throw new Error('wordcount filter missing')
    const r = await runWordCount(peer, {
      text: opts.bytes == null && text.value != null ? text.value : demoText(opts.bytes), fnCid: await functionCid('wordcount'),
      mapEntry: entry.entry, reduceEntry: entry.reduceEntry ?? 'reduce',
      memoryPages: entry.memoryPagesFor(4096 * 2),
      scheduler: schedulerFor(chosenPlacement(opts)),
      onProgress: progress
    })
    const top = [...r.counts].sort((a, b) => b.count - a.count).slice(0, 30)
    wordCountText.value = top.map(c => `${c.count.toString().padStart(6)}  ${c.word}`).join('\n')
    jobStatus.value = `Word count done in ${r.ms.toFixed(0)} ms: ${r.counts.length} distinct words`
    return { ...r, hash: await sha256Hex(new TextEncoder().encode(JSON.stringify(r.counts))) }
  }

  // "plug the board into the laptop": the tab bridges a board on Web Serial
  // into the room, as the Node bridge does, with the same code (loaded on
  // first use: few people plug in a board, and start-up stays lighter)
  const boards: Bridge[] = []
  async function adoptBoard (port?: SerialPortLike): Promise<string> {
    const nav = navigator as Navigator & { serial?: { requestPort: () => Promise<SerialPortLike> } }
    const chosen = port ?? await nav.serial?.requestPort()
    if (chosen == null) throw new Error('this browser has no Web Serial: use Chrome, or the Node bridge (npm run bridge)')
    const [{ Bridge }, { openWebSerialLink }] = await Promise.all([import('../mcu/bridge.js'), import('../mcu/link-web-serial.js')])
    const bridge = new Bridge({ room: location.href, relays, open: async () => openWebSerialLink(chosen), name: 'board via this tab' })
    await bridge.start()
    boards.push(bridge)
    jobStatus.value = `Board ${bridge.client?.caps?.chip ?? ''} joined the room as ${shortId(bridge.peer.id)}`
    return bridge.peer.id
  }

  return { imageJob, wordCount, functionCid, adoptBoard, boards, state }
}

export type Demos = ReturnType<typeof createDemos>
/** The examples' handles, once the peer has started. */
export const demos = signal<Demos | null>(null)

export async function decodeImage (file: Blob): Promise<Rgba> {
  const bitmap = await createImageBitmap(file)
  const scale = Math.min(1, 1024 / Math.max(bitmap.width, bitmap.height))
  const width = Math.round(bitmap.width * scale)
  const height = Math.round(bitmap.height * scale)
  const canvas = new OffscreenCanvas(width, height)
  const ctx = canvas.getContext('2d')
  if (ctx == null) throw new Error('no 2D canvas')
  ctx.drawImage(bitmap, 0, 0, width, height)
  return { rgba: new Uint8Array(ctx.getImageData(0, 0, width, height).data.buffer), width, height }
}
