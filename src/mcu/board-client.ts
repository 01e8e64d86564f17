import { logger } from '@libp2p/logger'
import {
  AbortedError, BoardError, DeadlineExceededError, FedraError, FunctionFailedError, FunctionTrapError, InvalidMessageError,
  InvalidModuleError, MemoryLimitError, MessageTooLargeError, ModuleNotCachedError, WorkerLostError
} from '../core/errors.js'
import { FrameSplitter, decodeFrame, encodeFrame } from '../core/mcu/framing.js'
import { BoardErrorCode, decodeBoardMessage, encodeHost } from '../core/mcu/messages.js'
import type { BoardCaps, BoardMessage } from '../core/mcu/messages.js'

const log = logger('fedra:mcu')

/**
 * A byte pipe to a board: a serial port (Node `serialport`, or Web Serial in
 * a tab) or QEMU's emulated UART over TCP. The client speaks the protocol;
 * links only move bytes (src/mcu/links.*.ts).
 */
export interface ByteLink {
  write: (bytes: Uint8Array) => Promise<void>
  /** Registers the one data handler. */
  onData: (fn: (chunk: Uint8Array) => void) => void
  /** Called once when the link ends (unplug, reset, QEMU gone). */
  onClose: (fn: (err?: Error) => void) => void
  close: () => Promise<void>
}

/** Board error codes → the Fedra error a submitter can act on. */
function toFedraError (code: number, text: string): FedraError {
  const msg = `board: ${text}`
  switch (code) {
    case BoardErrorCode.TRAP: return new FunctionTrapError(msg)
    case BoardErrorCode.OUT_OF_FUEL: return new DeadlineExceededError(msg)
    case BoardErrorCode.NO_MEMORY: return new MemoryLimitError(msg)
    case BoardErrorCode.LOAD_FAILED:
    case BoardErrorCode.BAD_ENTRY:
    case BoardErrorCode.DIGEST: return new InvalidModuleError(msg)
    case BoardErrorCode.FUNCTION_ERROR: return new FunctionFailedError(msg)
    case BoardErrorCode.CANCELLED: return new AbortedError(msg)
    case BoardErrorCode.NO_MODULE: return new ModuleNotCachedError(msg)
    case BoardErrorCode.TOO_LARGE:
    case BoardErrorCode.OUTPUT_TOO_LARGE: return new MessageTooLargeError(msg)
    case BoardErrorCode.BAD_FRAME:
    case BoardErrorCode.BAD_VERSION:
    case BoardErrorCode.UNKNOWN_TYPE:
    case BoardErrorCode.BAD_FIELDS: return new InvalidMessageError(msg)
    default: return new BoardError(`${msg} (board error ${code})`)
  }
}

export interface RunOnBoard {
  key: Uint8Array
  entry: string
  input: Uint8Array
  params: Uint8Array
  fuel?: bigint
  signal?: AbortSignal
  onProgress?: (instructions: bigint) => void
}

export interface BoardResult {
  output: Uint8Array
  instructions: bigint
  cycles: number
}

interface Waiter {
  resolve: (m: BoardMessage) => void
  reject: (e: Error) => void
  /** RUN: the ACK arrives first, then RESULT/ERROR under the same id. */
  final?: boolean
  onProgress?: (instructions: bigint) => void
}

/** The host side of the board protocol over any ByteLink. */
export class BoardClient {
  caps?: BoardCaps
  closed = false
  private readonly waiters = new Map<number, Waiter>()
  private nextReq = 1
  private readonly splitter = new FrameSplitter(4096)
  private writing: Promise<void> = Promise.resolve()
  private readonly loading = new Map<string, Promise<void>>()
  private readonly closeListeners = new Set<(err: Error) => void>()

  constructor (private readonly link: ByteLink) {
    link.onData(chunk => {
      this.splitter.push(chunk, frame => { this.onFrame(frame) }, err => { log('dropped: %s', err.message) })
    })
    link.onClose(err => { this.shutdown(new WorkerLostError(`board link closed${err != null ? `: ${err.message}` : ''}`)) })
  }

  onClose (fn: (err: Error) => void): () => void {
    this.closeListeners.add(fn)
    return () => { this.closeListeners.delete(fn) }
  }

  private shutdown (err: Error): void {
    if (this.closed) return
    this.closed = true
    for (const w of this.waiters.values()) w.reject(err)
    this.waiters.clear()
    for (const fn of this.closeListeners) fn(err)
  }

  private onFrame (frame: Uint8Array): void {
    let msg: BoardMessage
    try {
      msg = decodeBoardMessage(decodeFrame(frame))
    } catch (err) {
      log('bad frame from board: %s', (err as Error).message)
      return
    }
    const w = this.waiters.get(msg.req)
    if (w == null) {
      if (msg.type === 'error') log('board error %d for request %d: %s', msg.code, msg.req, msg.text)
      return
    }
    if (msg.type === 'progress') { w.onProgress?.(msg.instructions); return }
    if (w.final === false && msg.type === 'ack') { w.final = true; return }
    this.waiters.delete(msg.req)
    if (msg.type === 'error') w.reject(toFedraError(msg.code, msg.text))
    else w.resolve(msg)
  }

  private reqId (): number {
    for (let i = 0; i < 0xffff; i++) {
      const id = this.nextReq
      this.nextReq = this.nextReq >= 0xffff ? 1 : this.nextReq + 1
      if (!this.waiters.has(id)) return id
    }
    throw new BoardError('no free request id')
  }

  private send (payload: Uint8Array): Promise<void> {
    const next = this.writing.then(async () => { await this.link.write(encodeFrame(payload)) })
    this.writing = next.catch(() => {})
    return next
  }

  private async request (build: (req: number) => Uint8Array, opts: { signal?: AbortSignal, timeoutMs?: number, run?: Omit<Waiter, 'resolve' | 'reject'> } = {}): Promise<BoardMessage> {
    if (this.closed) throw new WorkerLostError('board link is closed')
    // cancelled before it was sent: nothing goes to the board
    if (opts.signal?.aborted === true) throw new AbortedError('cancelled before it was sent')
    const req = this.reqId()
    const payload = build(req)
    const maxFrame = this.caps?.maxFrame
    if (maxFrame != null && payload.byteLength > maxFrame) {
      // the board would drop it and could not say which request it was
      throw new MessageTooLargeError(`a ${payload.byteLength}-byte message does not fit the board's ${maxFrame}-byte frames`)
    }
    const reply = new Promise<BoardMessage>((resolve, reject) => {
      this.waiters.set(req, { resolve, reject, ...opts.run })
    })
    // if sending fails we never await the reply: keep its rejection handled
    reply.catch(() => {})
    const signals = [opts.signal, opts.timeoutMs != null ? AbortSignal.timeout(opts.timeoutMs) : undefined].filter((s): s is AbortSignal => s != null)
    const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined
    const onAbort = (): void => {
      const w = this.waiters.get(req)
      if (w == null) return
      this.waiters.delete(req)
      if (opts.run != null) void this.send(encodeHost.cancel(this.reqId(), req)).catch(() => {})
      const reason = signal?.reason as Error | undefined
      w.reject(reason?.name === 'TimeoutError' ? new DeadlineExceededError('the board did not answer in time') : new AbortedError('cancelled'))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      try {
        await this.send(payload)
      } catch (err) {
        this.waiters.delete(req)
        throw new WorkerLostError(`could not write to the board: ${(err as Error).message}`)
      }
      return await reply
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** HELLO until CAPS: bytes sent before the board's UART is up are lost. */
  async hello (options: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<BoardCaps> {
    const deadline = Date.now() + (options.timeoutMs ?? 15_000)
    await this.link.write(new Uint8Array([0]))
    while (Date.now() < deadline) {
      options.signal?.throwIfAborted()
      try {
        const m = await this.request(encodeHost.hello, { signal: options.signal, timeoutMs: 300 })
        if (m.type === 'caps') {
          this.caps = m.caps
          return m.caps
        }
      } catch (err) {
        if (this.closed || options.signal?.aborted === true) throw err
      }
    }
    throw new WorkerLostError('the board did not answer HELLO')
  }

  async ping (bytes = new Uint8Array(0), options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const m = await this.request(req => encodeHost.ping(req, bytes), { signal: options.signal, timeoutMs: 5000 })
    if (m.type !== 'pong') throw new InvalidMessageError('expected PONG')
    return m.bytes
  }

  /**
   * Uploads a module once: the board caches it by its SHA-256. Tasks that
   * need the same module share one upload, which no single task's signal
   * stops (each stops waiting for it on its own signal): a cancelled first
   * task does not fail the others.
   */
  async ensureModule (key: Uint8Array, module: Uint8Array, options: { signal?: AbortSignal, force?: boolean } = {}): Promise<void> {
    if (options.signal?.aborted === true) throw new AbortedError('cancelled before it was sent')
    const id = [...key].map(b => b.toString(16).padStart(2, '0')).join('')
    let p = this.loading.get(id)
    if (p == null || options.force === true) {
      p = this.upload(key, module, options.force === true)
      this.loading.set(id, p)
      p.catch(() => { this.loading.delete(id) })
    }
    await untilAborted(p, options.signal)
  }

  private async upload (key: Uint8Array, module: Uint8Array, force: boolean): Promise<void> {
    const t = { timeoutMs: 10_000 }
    if (!force) {
      const has = await this.request(req => encodeHost.hasFunction(req, key), t)
      if (has.type === 'has' && has.present) return
    }
    const maxModule = this.caps?.maxModule ?? Infinity
    if (module.byteLength > maxModule) throw new MessageTooLargeError(`module is ${module.byteLength} bytes; the board takes at most ${maxModule}`)
    await this.request(req => encodeHost.loadBegin(req, key, module.byteLength), t)
    const chunk = (this.caps?.maxFrame ?? 256) - 8
    for (let off = 0; off < module.byteLength; off += chunk) {
      const part = module.subarray(off, Math.min(module.byteLength, off + chunk))
      await this.request(req => encodeHost.loadChunk(req, off, part), t)
    }
    await this.request(req => encodeHost.loadEnd(req, key), t)
  }

  async run (task: RunOnBoard): Promise<BoardResult> {
    const m = await this.request(
      req => encodeHost.run(req, task.key, task.fuel ?? 0n, task.entry, task.input, task.params),
      { signal: task.signal, run: { final: false, onProgress: task.onProgress } }
    )
    if (m.type !== 'result') throw new InvalidMessageError(`expected RESULT, got ${m.type}`)
    return { output: m.output, instructions: m.instructions, cycles: m.cycles }
  }

  async close (): Promise<void> {
    this.shutdown(new WorkerLostError('board link closed'))
    await this.link.close()
  }
}

/** `p`, or an `AbortedError` as soon as `signal` aborts (`p` goes on). */
async function untilAborted<T> (p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal == null) return await p
  if (signal.aborted) throw new AbortedError('cancelled')
  let stop = (): void => {}
  const aborted = new Promise<never>((_resolve, reject) => {
    stop = () => { reject(new AbortedError('cancelled')) }
    signal.addEventListener('abort', stop, { once: true })
  })
  try {
    return await Promise.race([p, aborted])
  } finally {
    signal.removeEventListener('abort', stop)
  }
}
