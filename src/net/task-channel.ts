import { lpStream } from '@libp2p/utils'
import { logger } from '@libp2p/logger'
import { AbortedError, FedraError, InvalidMessageError, MessageTooLargeError, NotRoomMemberError, WorkerLostError, codeOf, errorFromCode } from '../core/errors.js'
import { decodeMessage } from '../core/protocol/codec.js'
import { MAX_ID_LENGTH, MAX_INLINE_BYTES, START_REPORT_HOLD_MS, TASK_PROTOCOL, decodeFromWorker, decodeToWorker, encodeTaskMessage } from '../core/protocol/task.js'
import { newNonce, proveMembership, verifyMembership } from '../core/room/keys.js'
import type { FromWorker, TaskProgress, TaskRequest, TaskResult, ToWorker } from '../core/protocol/task.js'
import type { BatchControl, ProgressReport, TaskOutput } from '../peer/worker-service.js'
import type { RoomKeys } from '../core/room/keys.js'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import type { FedraLibp2p } from './libp2p.js'

const log = logger('fedra:net:task')

/** Largest frame: an inline module plus an inline input, plus headroom. */
const MAX_FRAME_BYTES = 2 * MAX_INLINE_BYTES + 64 * 1024
/**
 * A stream open plus the key handshake: four messages each way. A volunteer
 * on a slow, busy CPU (its event loop seconds behind: the calibration
 * bench's 0.1-core tab) needs more than 5 s for that, and an open that times
 * out drops the connection (see `open`), so the budget is generous.
 */
const HANDSHAKE_TIMEOUT_MS = 10_000

export interface TaskContext {
  peerId: string
  signal: AbortSignal
  onProgress: (p?: ProgressReport) => void
  /** A batch task's cut (`cut` messages from the submitter) lands here. */
  control: BatchControl
}

/** Runs one task for a remote, proven room member. Throws typed errors. */
export type TaskHandler = (req: TaskRequest, ctx: TaskContext) => Promise<TaskOutput>

export interface SubmitOptions {
  signal?: AbortSignal
  onProgress?: (p: TaskProgress) => void
}

export interface TaskChannelInit {
  keys: RoomKeys
  handler: TaskHandler
  /** Called when a remote peer proves (or fails to prove) room membership. */
  onVerified?: (peerId: string) => void
}

interface Pending {
  resolve: (r: TaskResult) => void
  reject: (e: Error) => void
  onProgress?: (p: TaskProgress) => void
}

/** One authenticated, long-lived task stream to a worker. */
class Channel {
  readonly pending = new Map<string, Pending>()
  private writing: Promise<void> = Promise.resolve()
  closed = false

  constructor (readonly peerId: string, readonly lp: LengthPrefixedStream<Stream>, private readonly stream: Stream) {}

  send (msg: ToWorker | FromWorker, signal?: AbortSignal): Promise<void> {
    return this.sendRaw(encodeTaskMessage(msg), signal)
  }

  sendRaw (bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
    const next = this.writing.then(async () => { await this.lp.write(bytes, { signal }) })
    this.writing = next.catch(() => {})
    return next
  }

  /** Several frames in one stream write (one libp2p message while they fit one). */
  sendFrames (frames: Uint8Array[]): Promise<void> {
    if (frames.length === 1) return this.sendRaw(frames[0])
    const next = this.writing.then(async () => { await this.lp.writeV(frames) })
    this.writing = next.catch(() => {})
    return next
  }

  close (err: Error): void {
    if (this.closed) return
    this.closed = true
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
    this.stream.abort(err)
  }
}

/**
 * One task's reports on the worker's side. The start report (the first one
 * without `phase`) is held `START_REPORT_HOLD_MS`: a task that ends by then
 * sends it in the same stream write as its result: one libp2p message
 * instead of two (each is two blocking data-channel sends in Chromium).
 * The submitter still gets every report, in order; only a short task's
 * start report arrives with its result.
 */
export class StartReportHold {
  private started = false
  private held: Uint8Array | undefined
  private timer: ReturnType<typeof setTimeout> | undefined

  /** `send` writes frames in one stream write, in order. */
  constructor (private readonly send: (frames: Uint8Array[]) => Promise<void>, private readonly holdMs = START_REPORT_HOLD_MS) {}

  report (frame: Uint8Array, phase?: 'input'): void {
    if (!this.started && phase == null) {
      this.started = true
      this.held = frame
      this.timer = setTimeout(() => { void this.write([]) }, this.holdMs)
      return
    }
    void this.write([frame])
  }

  /** The task's last message (its result or error), after any report still held. */
  async end (frame: Uint8Array): Promise<void> {
    await this.write([frame])
  }

  private async write (frames: Uint8Array[]): Promise<void> {
    if (this.held != null) {
      clearTimeout(this.timer)
      frames.unshift(this.held)
      this.held = undefined
    }
    if (frames.length === 0) return
    await this.send(frames).catch(() => {})
  }
}

/** The id of a task message that failed validation, if it can be read at all. */
function taskIdOf (frame: Uint8Array): string {
  try {
    const raw = decodeMessage(frame, { maxBytes: MAX_FRAME_BYTES }) as { id?: unknown }
    return typeof raw?.id === 'string' && raw.id.length <= MAX_ID_LENGTH ? raw.id : ''
  } catch {
    return ''
  }
}

function isLengthError (err: unknown): boolean {
  const name = (err as Error)?.name
  return name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError' || name === 'InvalidMessageLengthError'
}

async function readFrame (lp: LengthPrefixedStream<Stream>, signal: AbortSignal): Promise<Uint8Array> {
  const buf = await lp.read({ signal })
  return buf.subarray()
}

/**
 * `/fedra/task/1.0.0`. Both ends prove they hold the room key (HMAC over the
 * other side's nonce and both peer ids) before any task flows; a peer
 * without the key gets a NotRoomMember error and the stream is closed.
 */
export class TaskChannels {
  private readonly channels = new Map<string, Promise<Channel>>()
  private readonly inbound = new Set<Channel>()
  private started = false
  private seq = 0

  constructor (private readonly node: FedraLibp2p, private readonly init: TaskChannelInit) {}

  async start (): Promise<void> {
    await this.node.handle(TASK_PROTOCOL, (stream, connection) => {
      this.onInbound(stream, connection).catch(err => { log.error('inbound task stream failed %e', err) })
    }, { maxInboundStreams: 8, maxOutboundStreams: 8 })
    this.started = true
  }

  async stop (): Promise<void> {
    this.started = false
    await this.node.unhandle(TASK_PROTOCOL)
    for (const ch of this.inbound) ch.close(new WorkerLostError('peer stopped'))
    for (const p of this.channels.values()) p.then(ch => { ch.close(new WorkerLostError('peer stopped')) }, () => {})
    this.channels.clear()
  }

  /** Forget the channel to a peer that left, failing what it was running. */
  drop (peerId: string): void {
    const p = this.channels.get(peerId)
    this.channels.delete(peerId)
    p?.then(ch => { ch.close(new WorkerLostError(`worker ${peerId.slice(-6)} left`)) }, () => {})
  }

  private async onInbound (stream: Stream, connection: Connection): Promise<void> {
    const remote = connection.remotePeer.toString()
    const self = this.node.peerId.toString()
    const lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES, maxBufferSize: MAX_FRAME_BYTES + 64 * 1024 })
    const ch = new Channel(remote, lp, stream)
    const life = new AbortController()
    const running = new Map<string, { ac: AbortController, control: BatchControl }>()
    try {
      const hs = AbortSignal.any([life.signal, AbortSignal.timeout(HANDSHAKE_TIMEOUT_MS)])
      const hello = decodeToWorker(await readFrame(lp, hs), { maxBytes: 1024 })
      if (hello.t !== 'hello') throw new InvalidMessageError('task stream must open with hello')
      const nonce = newNonce()
      await ch.send({ v: 1, t: 'hello', nonce, proof: await proveMembership(this.init.keys, hello.nonce, self, remote) }, hs)
      const proof = decodeToWorker(await readFrame(lp, hs), { maxBytes: 1024 })
      if (proof.t !== 'proof' || !(await verifyMembership(this.init.keys, proof.proof, nonce, remote, self))) {
        await ch.send({ v: 1, t: 'error', id: '', code: NotRoomMemberError.code, message: 'this peer does not hold the room key' }, hs).catch(() => {})
        throw new NotRoomMemberError(`peer ${remote} failed the room-key challenge`)
      }
      await ch.send({ v: 1, t: 'welcome' }, hs)
      this.init.onVerified?.(remote)
      this.inbound.add(ch)
      while (this.started) {
        let msg: ToWorker
        let frame: Uint8Array
        try {
          frame = await readFrame(lp, life.signal)
        } catch (err) {
          if (isLengthError(err)) {
            await ch.send({ v: 1, t: 'error', id: '', code: MessageTooLargeError.code, message: `frames are limited to ${MAX_FRAME_BYTES} bytes` }).catch(() => {})
          }
          throw err
        }
        try {
          msg = decodeToWorker(frame, { maxBytes: MAX_FRAME_BYTES })
        } catch (err) {
          if (err instanceof FedraError) {
            // a malformed message gets a typed error back, naming the task
            // when its id can be read; the stream stays usable
            await ch.send({ v: 1, t: 'error', id: taskIdOf(frame), code: err.code, message: err.message }).catch(() => {})
            continue
          }
          throw err
        }
        if (msg.t === 'cancel') {
          running.get(msg.id)?.ac.abort(new AbortedError('cancelled by the submitter'))
          continue
        }
        if (msg.t === 'cut') {
          // a cut never widens a run: the earliest one holds
          const r = running.get(msg.id)
          if (r != null) r.control.cutAt = Math.min(r.control.cutAt ?? msg.at, msg.at)
          continue
        }
        if (msg.t !== 'task') continue
        const ac = new AbortController()
        const control: BatchControl = {}
        running.set(msg.id, { ac, control })
        const req = msg
        const received = performance.now()
        const reports = new StartReportHold(async frames => { await ch.sendFrames(frames) })
        this.init.handler(req, {
          peerId: remote,
          // (the loop's end aborts every running task's controller: see finally)
          signal: ac.signal,
          control,
          onProgress: p => { reports.report(encodeTaskMessage({ v: 1, t: 'progress', id: req.id, done: p?.done ?? 0, total: p?.total ?? 1, from: p?.from, outputs: p?.outputs, phase: p?.phase }), p?.phase) }
        }).then(
          async r => { await reports.end(encodeTaskMessage({ v: 1, t: 'result', id: req.id, output: r.output, ms: r.ms, heldMs: Math.round((performance.now() - received) * 1000) / 1000, from: r.from, to: r.to })) },
          async (err: unknown) => { await reports.end(encodeTaskMessage({ v: 1, t: 'error', id: req.id, code: codeOf(err), message: (err as Error).message ?? String(err) })) }
        ).catch(() => {}).finally(() => running.delete(req.id))
      }
    } catch (err) {
      log('inbound channel from %s ended: %s', remote, (err as Error).message)
    } finally {
      life.abort()
      for (const { ac } of running.values()) ac.abort(new AbortedError('task stream closed'))
      this.inbound.delete(ch)
      ch.close(new WorkerLostError('task stream closed'))
    }
  }

  private pickConnection (peerId: PeerId): Connection | undefined {
    const conns = this.node.getConnections(peerId).filter(c => c.status === 'open')
    // prefer a direct connection that already carries streams: of duplicate
    // connections left by a stalled WebRTC dial, that is the live one
    const direct = conns.filter(c => c.limits == null)
    direct.sort((a, b) => b.streams.length - a.streams.length)
    return direct[0] ?? conns[0]
  }

  private async open (peerId: PeerId, signal?: AbortSignal): Promise<Channel> {
    const remote = peerId.toString()
    const self = this.node.peerId.toString()
    const conn = this.pickConnection(peerId)
    if (conn == null) throw new WorkerLostError(`no connection to ${remote}`)
    const hs = AbortSignal.any([AbortSignal.timeout(HANDSHAKE_TIMEOUT_MS), ...(signal != null ? [signal] : [])])
    let stream: Stream
    try {
      stream = await conn.newStream(TASK_PROTOCOL, { signal: hs, runOnLimitedConnection: false })
    } catch (err) {
      // a stream open can stall on a half-open WebRTC connection: the worker
      // is unreachable for now, which is not the task's fault. A stalled
      // connection stays stalled, so drop it: the room dials a fresh one on
      // the next beat instead of every later task stalling the same way
      if (signal?.aborted !== true && conn.limits == null) {
        log('task stream open to %s stalled: closing that connection', remote)
        conn.abort(new Error('task stream open stalled'))
      }
      throw new WorkerLostError(`could not open a task stream to ${remote}: ${(err as Error).message}`)
    }
    const lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES, maxBufferSize: MAX_FRAME_BYTES + 64 * 1024 })
    const ch = new Channel(remote, lp, stream)
    try {
      const nonce = newNonce()
      await ch.send({ v: 1, t: 'hello', nonce }, hs)
      const hello = decodeFromWorker(await readFrame(lp, hs), { maxBytes: 1024 })
      if (hello.t === 'error') throw errorFromCode(hello.code, hello.message)
      if (hello.t !== 'hello' || hello.proof == null || !(await verifyMembership(this.init.keys, hello.proof, nonce, remote, self))) {
        throw new NotRoomMemberError(`peer ${remote} could not prove it holds the room key`)
      }
      await ch.send({ v: 1, t: 'proof', proof: await proveMembership(this.init.keys, hello.nonce, self, remote) }, hs)
      const welcome = decodeFromWorker(await readFrame(lp, hs), { maxBytes: 1024 })
      if (welcome.t === 'error') throw errorFromCode(welcome.code, welcome.message)
      if (welcome.t !== 'welcome') throw new InvalidMessageError('expected welcome')
    } catch (err) {
      const e = err instanceof FedraError ? err : new WorkerLostError(`task stream handshake with ${remote} failed: ${(err as Error).message}`)
      ch.close(e)
      throw e
    }
    this.init.onVerified?.(remote)
    void this.readLoop(ch)
    return ch
  }

  private async readLoop (ch: Channel): Promise<void> {
    const life = new AbortController()
    try {
      while (!ch.closed) {
        const msg = decodeFromWorker(await readFrame(ch.lp, life.signal), { maxBytes: MAX_FRAME_BYTES })
        if (msg.t === 'hello' || msg.t === 'welcome') continue
        const p = ch.pending.get(msg.id)
        if (msg.t === 'error' && msg.id === '') {
          log.error('worker %s reported %s: %s', ch.peerId, msg.code, msg.message)
          continue
        }
        if (p == null) continue
        if (msg.t === 'progress') { p.onProgress?.(msg); continue }
        ch.pending.delete(msg.id)
        if (msg.t === 'result') p.resolve(msg)
        else p.reject(errorFromCode(msg.code, msg.message))
      }
    } catch (err) {
      log('channel to %s closed: %s', ch.peerId, (err as Error).message)
      // a worker that sends garbage fails its tasks (they count as attempts);
      // a stream that merely ended means the worker is gone
      if (err instanceof FedraError) ch.close(err)
    } finally {
      if (this.channels.get(ch.peerId) != null) {
        const cur = await this.channels.get(ch.peerId)?.catch(() => undefined)
        if (cur === ch) this.channels.delete(ch.peerId)
      }
      ch.close(new WorkerLostError(`lost the task stream to ${ch.peerId.slice(-6)}`))
    }
  }

  private channelTo (peerId: PeerId, signal?: AbortSignal): Promise<Channel> {
    const key = peerId.toString()
    let p = this.channels.get(key)
    if (p == null) {
      p = this.open(peerId, signal)
      this.channels.set(key, p)
      p.catch(() => { if (this.channels.get(key) === p) this.channels.delete(key) })
    }
    return p
  }

  /** Sends a task to a worker and waits for its result. */
  async submit (peerId: PeerId, req: Omit<TaskRequest, 'v' | 't'>, options: SubmitOptions = {}): Promise<TaskResult> {
    options.signal?.throwIfAborted()
    const ch = await this.channelTo(peerId, options.signal)
    if (ch.closed) throw new WorkerLostError(`task stream to ${peerId.toString()} is closed`)
    const id = req.id
    const bytes = encodeTaskMessage({ v: 1, t: 'task', ...req })
    if (bytes.byteLength > MAX_FRAME_BYTES) {
      throw new MessageTooLargeError(`task ${id} is ${bytes.byteLength} bytes; store large inputs in the block store and send their CID`)
    }
    const result = new Promise<TaskResult>((resolve, reject) => {
      ch.pending.set(id, { resolve, reject, onProgress: options.onProgress })
    })
    const onAbort = (): void => {
      const p = ch.pending.get(id)
      ch.pending.delete(id)
      void ch.send({ v: 1, t: 'cancel', id }).catch(() => {})
      p?.reject(new AbortedError('task cancelled'))
    }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      await ch.sendRaw(bytes, options.signal)
      return await result
    } finally {
      options.signal?.removeEventListener('abort', onAbort)
    }
  }

  /**
   * Cuts a batch task running on the worker: it stops before item `at`
   * (no-op when no stream is open: the task is gone with it).
   */
  async cut (peerId: PeerId, id: string, at: number): Promise<void> {
    const ch = await this.channels.get(peerId.toString())?.catch(() => undefined)
    if (ch == null || ch.closed || !ch.pending.has(id)) return
    await ch.send({ v: 1, t: 'cut', id, at })
  }

  /** Verifies membership of a peer without sending a task (opens the channel). */
  async connect (peerId: PeerId, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.channelTo(peerId, options.signal)
  }

  nextId (prefix: string): string {
    return `${prefix}-${(this.seq++).toString(36)}`
  }
}
