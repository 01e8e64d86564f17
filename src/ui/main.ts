import { IDBBlockstore } from 'blockstore-idb'
import { MemoryDatastore } from 'datastore-core'
import { sha256Hex } from '../core/digest.js'
import { formatRoomLink, newRoomSecret, parseRoomLink } from '../core/room/link.js'
import { localOnly } from '../core/scheduler/local-only.js'
import { leastLoaded } from '../core/scheduler/least-loaded.js'
import type { ApplicationScheduler } from '../core/scheduler/types.js'
import { FILTERS, findFilter } from '../filters/catalog.js'
import { runImageJob } from '../peer/image-job.js'
import { FedraPeer } from '../peer/peer.js'
import { runWordCount } from '../peer/wordcount-job.js'
import { createWorkerPool } from '../runtime/index.browser.js'
import { Bridge } from '../mcu/bridge.js'
import { openWebSerialLink } from '../mcu/link-web-serial.js'
import { browserCapabilities } from './capabilities.js'
import type { SerialPortLike } from '../mcu/link-web-serial.js'
import { demoImage, demoText } from './demo-data.js'
import { blockDbName, collectIdleRooms } from './storage-gc.js'
import type { RoomSecret } from '../core/room/link.js'
import type { ImageJobResult } from '../peer/image-job.js'
import type { JobProgress } from '../peer/job-runner.js'

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T
/** Peer id → why it took no task in the last job (shown in the peers table). */
const idleNotes = new Map<string, string>()

function roomFromLocation (): RoomSecret {
  if (location.hash.startsWith('#/r/')) return parseRoomLink(location.hash)
  const secret = newRoomSecret()
  history.replaceState(null, '', formatRoomLink(location.href, secret))
  return secret
}

function colourOf (peerId: string): string {
  let h = 0
  for (const c of peerId) h = (h * 31 + c.charCodeAt(0)) >>> 0
  return `hsl(${h % 360} 80% 50%)`
}

function shortId (id: string): string {
  return `…${id.slice(-6)}`
}

async function main (): Promise<void> {
  const room = roomFromLocation()
  $<HTMLInputElement>('room-link').value = location.href
  $('copy-link').addEventListener('click', () => { void navigator.clipboard?.writeText(location.href) })
  $('new-room').addEventListener('click', () => {
    location.hash = formatRoomLink(location.href, newRoomSecret()).split('#')[1]
    location.reload()
  })
  window.addEventListener('hashchange', () => { location.reload() })

  const config = await (await fetch('/fedra.json')).json() as { relays: string[] }
  const workers = Math.max(1, Math.min(4, (navigator.hardwareConcurrency ?? 2) - 1))
  const pool = createWorkerPool({ size: workers })
  await collectIdleRooms(room.roomId).catch(() => [])
  const blockstore = new IDBBlockstore(blockDbName(room.roomId))
  await blockstore.open()
  const peer = new FedraPeer({
    room,
    relays: config.relays,
    runner: pool,
    capabilities: await browserCapabilities(workers),
    blockstore,
    datastore: new MemoryDatastore(),
    name: navigator.userAgent.includes('Mobile') ? 'phone' : 'browser'
  })
  await peer.start()
  $('status').textContent = `Joined room ${room.roomId} as ${shortId(peer.id)}. Waiting for peers…`
  const consent = $<HTMLInputElement>('consent')
  consent.addEventListener('change', () => { peer.consent = consent.checked })

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
  const select = $<HTMLSelectElement>('filter')
  for (const f of FILTERS.filter(f => f.kind === 'image')) {
    const opt = document.createElement('option')
    opt.value = f.name
    opt.textContent = f.description
    select.append(opt)
  }

  renderPeers(peer)
  // a hidden tab (a phone's screen off, a background tab) draws nothing:
  // the peer table is rebuilt only when someone looks and something changed
  setInterval(() => { if (document.visibilityState !== 'hidden') renderPeers(peer) }, 1000)
  document.addEventListener('visibilitychange', () => { if (document.visibilityState !== 'hidden') renderPeers(peer) })

  let current = { rgba: demoImage(), width: 512, height: 384 }
  drawRgba($('original'), current.rgba, current.width, current.height)
  $<HTMLInputElement>('image-file').addEventListener('change', async (e) => {
    const file = (e.target as HTMLInputElement).files?.[0]
    if (file == null) return
    current = await decodeImage(file)
    drawRgba($('original'), current.rgba, current.width, current.height)
  })

  const state = {
    /** Volunteers that took no task in the last job, and why (the peers table shows the same). */
    get idle (): Array<{ id: string, reason: string }> { return [...idleNotes].map(([id, reason]) => ({ id, reason })) },
    progress: { done: 0, total: 0 }, requeued: 0, requeueReasons: [] as string[], requeuedTasks: [] as Array<{ taskId: string, workerId: string }>, moved: 0, movedTasks: [] as Array<{ taskId: string, from: string, to: string }>, backups: 0, backupTasks: [] as Array<{ taskId: string, runningOn: string[] }>, splits: 0, splitTasks: [] as Array<{ taskId: string, pieceId: string, from: string, to: string, items: number }>, paused: '', liars: [] as string[], failures: [] as Array<{ taskId: string, workerId: string, code: string, message: string }>
  }
  const progress = (e: JobProgress): void => {
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
      $('job-status').textContent = e.to === ''
        ? `Split ${e.taskId}: peer ${shortId(e.from)} fell behind; its last ${e.items} tiles go to a faster peer`
        : `Split ${e.taskId}: its last ${e.items} tiles went from peer ${shortId(e.from)} to idle peer ${shortId(e.to)}`
    }
    if (e.type === 'task-failed') state.failures.push({ taskId: e.taskId, workerId: e.workerId, code: e.code, message: e.message })
    if (e.type === 'liar' && !state.liars.includes(e.workerId)) {
      state.liars.push(e.workerId)
      $('job-status').textContent = `Peer ${shortId(e.workerId)} returned a wrong result: it is no longer trusted`
    }
    if (e.type === 'paused') state.paused = e.reason
    if (e.type === 'resumed') state.paused = ''
    const bar = $<HTMLProgressElement>('job-progress')
    if (e.type === 'task-done') { bar.max = e.total; bar.value = e.done; $('job-status').textContent = `${e.done}/${e.total} tasks done` }
    if (e.type === 'paused') $('job-status').textContent = `Paused: ${e.reason}. It resumes when a fitting volunteer joins.`
    if (e.type === 'resumed') $('job-status').textContent = 'Resumed: a fitting volunteer joined'
    if (e.type === 'requeued') $('job-status').textContent = `Peer ${shortId(e.workerId)}: ${e.reason}; ${e.taskIds.length} task${e.taskIds.length === 1 ? '' : 's'} re-queued`
  }

  type Placement = 'fastest' | 'everyone' | 'local'
  /** The application scheduler for a placement choice: undefined is the peer's default (ECT). */
  function schedulerFor (placement: Placement): ApplicationScheduler | undefined {
    return placement === 'local' ? localOnly() : placement === 'everyone' ? leastLoaded() : undefined
  }
  const chosenPlacement = (opts: { local?: boolean, placement?: Placement }): Placement =>
    opts.local === true ? 'local' : opts.placement ?? $<HTMLSelectElement>('placement').value as Placement

  interface ImageJobOptions {
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
  async function imageJob (opts: ImageJobOptions = {}): Promise<ImageJobResult & { hash: string }> {
    const entry = findFilter(opts.filter ?? select.value) ?? FILTERS[0]
    // tests and benchmarks ask for a test card of a given size
    const image = opts.size == null ? current : { rgba: demoImage(opts.size.width, opts.size.height), ...opts.size }
    const fnCid = await functionCid(entry.name)
    const result = await runImageJob(peer, {
      rgba: image.rgba, width: image.width, height: image.height,
      tileSize: opts.tileSize ?? Number($<HTMLSelectElement>('tile-size').value),
      tilesPerTask: opts.tilesPerTask ?? Number($<HTMLSelectElement>('tiles-per-task').value),
      fnCid, entry: entry.entry,
      params: tile => entry.encodeParams({ width: tile.width, height: tile.height }),
      memoryPages: bytes => opts.memoryPages ?? entry.memoryPagesFor(bytes),
      scheduler: schedulerFor(chosenPlacement(opts)),
      backups: opts.backups,
      quorum: opts.quorum ?? Number($<HTMLSelectElement>('quorum').value),
      waitForWorkers: opts.waitForWorkers ?? true,
      onProgress: progress
    })
    drawRgba($('result'), result.rgba, image.width, image.height, result)
    if (chosenPlacement(opts) !== 'local') noteIdle(result.owners)
    const hash = await sha256Hex(result.rgba)
    const used = new Set(result.owners).size
    $('job-status').textContent = `Done in ${result.ms.toFixed(0)} ms: ${result.tiles.length} tiles on ${used} peer${used === 1 ? '' : 's'}`
    return { ...result, hash }
  }

  let text: Uint8Array | undefined
  $<HTMLInputElement>('text-file').addEventListener('change', async (e) => {
    const file = (e.target as HTMLInputElement).files?.[0]
    text = file == null ? undefined : new Uint8Array(await file.arrayBuffer())
  })

  async function wordCount (opts: { local?: boolean, placement?: Placement, bytes?: number } = {}): Promise<{ hash: string, counts: Array<{ word: string, count: number }>, owners: Record<string, string>, ms: number }> {
    const entry = findFilter('wordcount')
    if (entry == null) throw new Error('wordcount filter missing')
    const r = await runWordCount(peer, {
      text: opts.bytes == null && text != null ? text : demoText(opts.bytes), fnCid: await functionCid('wordcount'),
      mapEntry: entry.entry, reduceEntry: entry.reduceEntry ?? 'reduce',
      memoryPages: entry.memoryPagesFor(4096 * 2),
      scheduler: schedulerFor(chosenPlacement(opts)),
      onProgress: progress
    })
    const top = [...r.counts].sort((a, b) => b.count - a.count).slice(0, 30)
    $('wordcount-output').textContent = top.map(c => `${c.count.toString().padStart(6)}  ${c.word}`).join('\n')
    $('job-status').textContent = `Word count done in ${r.ms.toFixed(0)} ms: ${r.counts.length} distinct words`
    return { ...r, hash: await sha256Hex(new TextEncoder().encode(JSON.stringify(r.counts))) }
  }

  /**
   * Volunteers that took no task in the last job, and why: under placement
   * by ECT a device much slower than the rest gets nothing in a short job
   * (it would finish last); the peers table says so instead of letting it
   * vanish from use silently.
   */
  function noteIdle (owners: readonly string[]): void {
    const used = new Set(owners)
    const peers = peer.registry.list().map(e => ({ e, speed: peer.estimator.speedOf(e.id, e.beat.caps) }))
    const fastest = Math.max(peer.estimator.speedOf(peer.id, peer.capabilities) ?? 0, ...peers.map(p => p.speed ?? 0))
    idleNotes.clear()
    for (const { e, speed } of peers) {
      if (!e.verified || !e.beat.consent || used.has(e.id)) continue
      idleNotes.set(e.id, speed == null
        ? 'not measured yet: got no task'
        : `too slow for this job: a task takes it ${Math.max(1, fastest / speed).toFixed(fastest / speed < 10 ? 1 : 0)}× the fastest peer's time`)
    }
  }

  const guard = (fn: () => Promise<unknown>) => () => {
    fn().catch((err: Error) => { $('job-status').textContent = `${err.name}: ${err.message}` })
  }
  $('run-image').addEventListener('click', guard(async () => imageJob()))
  $('run-wordcount').addEventListener('click', guard(async () => wordCount()))

  // "plug the board into the laptop": the tab bridges a board on Web Serial
  // into the room, as the Node bridge does, with the same code
  const boards: Bridge[] = []
  async function adoptBoard (port?: SerialPortLike): Promise<string> {
    const nav = navigator as Navigator & { serial?: { requestPort: () => Promise<SerialPortLike> } }
    const chosen = port ?? await nav.serial?.requestPort()
    if (chosen == null) throw new Error('this browser has no Web Serial: use Chrome, or the Node bridge (npm run bridge)')
    const bridge = new Bridge({ room: location.href, relays: config.relays, open: async () => openWebSerialLink(chosen), name: 'board via this tab' })
    await bridge.start()
    boards.push(bridge)
    $('job-status').textContent = `Board ${bridge.client?.caps?.chip ?? ''} joined the room as ${shortId(bridge.peer.id)}`
    return bridge.peer.id
  }
  const adopt = $<HTMLButtonElement>('adopt-board')
  adopt.hidden = !('serial' in navigator)
  adopt.addEventListener('click', guard(async () => adoptBoard()))

  // a small, stable handle for tests, benchmarks and the curious in devtools
  Object.assign(window, { fedra: { peer, pool, imageJob, wordCount, functionCid, adoptBoard, boards, state, ready: true } })
}

function renderPeers (peer: FedraPeer): void {
  const rows = $('peer-rows')
  const entries = [{ id: peer.id, caps: peer.capabilities, load: { queued: peer.worker.queued, running: peer.worker.running }, self: true, verified: true, direct: false }]
    .concat(peer.registry.list().map(e => ({ id: e.id, caps: e.beat.caps, load: e.beat.load, self: false, verified: e.verified, direct: peer.isDirect(e.id) })))
  const html = entries.map(e => {
    const link = e.self ? 'this tab' : e.direct ? (e.verified ? 'direct (WebRTC), verified' : 'direct, verifying…') : 'via relay only'
    const speed = peer.estimator.speedOf(e.id, e.caps)
    const idle = idleNotes.get(e.id)
    const cells = [
      `<span class="swatch" style="background:${colourOf(e.id)}"></span>${shortId(e.id)}`,
      e.caps.kind, String(e.caps.cores), `${e.caps.memoryMB} MB`, e.caps.wasmSimd ? 'yes' : 'no',
      e.caps.runtimes.join(', '), `${e.load.running} running, ${e.load.queued} queued`,
      (speed == null ? 'not measured' : `${speed.toFixed(speed < 0.1 ? 3 : 2)} core`) + (idle == null ? '' : ` <span class="idle">idle in the last job: ${idle}</span>`),
      link
    ]
    return `<tr data-peer="${e.id}">${cells.map(c => `<td>${c}</td>`).join('')}</tr>`
  }).join('')
  // layout and paint of a table rebuilt every second cost an idle peer more
  // CPU than its share of the room's gossip: touch the DOM only on a change
  if (html !== renderedPeers) {
    rows.innerHTML = html
    renderedPeers = html
  }
  const n = peer.connectedPeers().length
  setText($('peer-count'), `(${n + 1})`)
  setText($('status'), `Room ${peer.registry.size === 0 ? 'is empty: share the link' : `has ${n} connected peer${n === 1 ? '' : 's'}`}. You are ${shortId(peer.id)}.`)
}

let renderedPeers = ''

function setText (el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text
}

function drawRgba (canvas: HTMLCanvasElement, rgba: Uint8Array, width: number, height: number, job?: ImageJobResult): void {
  canvas.width = width
  canvas.height = height
  const ctx = canvas.getContext('2d')
  if (ctx == null) return
  ctx.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0)
  if (job == null) return
  for (const tile of job.tiles) {
    ctx.strokeStyle = colourOf(job.owners[tile.index])
    ctx.lineWidth = 2
    ctx.strokeRect(tile.x + 1, tile.y + 1, tile.width - 2, tile.height - 2)
  }
}

async function decodeImage (file: Blob): Promise<{ rgba: Uint8Array, width: number, height: number }> {
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

main().catch((err: Error) => {
  console.error(err)
  $('status').textContent = `Could not start: ${err.name}: ${err.message}`
})
