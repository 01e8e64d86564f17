import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { createUnsafe } from 'multiformats/block'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { AbortedError, BlockError, FedraError, InvalidMessageError, MessageTooLargeError, NotRoomMemberError, errorFromCode } from '../core/errors.js'
import {
  BLOCKS_PROTOCOL, BlockAssembler, MAX_BLOCK_BYTES, MAX_PIECE_BYTES, MAX_REPLY_FRAME_BYTES, MAX_WANT_CIDS, MAX_WANT_FRAME_BYTES,
  decodeBlockReplyView, decodeBlockRequest, encodeBlockMessage, encodeBlockPiece, splitBlock
} from '../core/protocol/blocks.js'
import { BlockSplit } from '../storage/providers.js'
import { dagSize, fileLayout } from '../storage/read-dag.js'
import type { FileLayout } from '../storage/read-dag.js'
import type { BlockReply } from '../core/protocol/blocks.js'
import type { CodecLoader, HasherLoader } from 'helia'
import type { Blockstore } from 'interface-blockstore'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'

const log = logger('fedra:net:blocks')

/**
 * Bytes of a block per frame. Measured between tabs (docs/data-plane.md,
 * `BENCH_ONLY=sweep`): 64 KiB and 1 MiB pieces were no faster than 256 KiB;
 * pieces keep the receive buffer and progress steps small.
 */
export const DEFAULT_PIECE_BYTES = 256 * 1024
/** Blocks asked for and not yet received: enough to keep the link busy, few enough to bound the buffer. */
export const DEFAULT_WINDOW = 8
/** A fetch that hears nothing from its provider this long moves on. */
const IDLE_TIMEOUT_MS = 10_000
/** A holder stops reading wants after this long without one (it still sends what was asked). */
const HOLDER_IDLE_MS = 60_000
/** Wants a holder queues per stream; a fetcher keeps at most its window outstanding. */
const MAX_QUEUED_WANTS = 4 * MAX_WANT_CIDS
/**
 * Blocks read from the store at once, the one being sent included. From
 * IndexedDB a 1 MiB block took 20–190 ms to read while the tab was sending;
 * 4 kept a cold holder's link busy where 2 did not (docs/data-plane.md,
 * `BENCH_ONLY=sweep`). At most 4 MiB per stream.
 */
export const DEFAULT_READ_AHEAD = 4
/** Largest DAG one fetch takes (a hostile provider cannot grow a fetch without bound). */
const DEFAULT_MAX_FETCH_BYTES = 1024 * 1024 * 1024

export interface BlockChannelInit {
  /** Serve only peers for which this is true: those that proved the room key. */
  isMember: (peerId: string) => boolean
  pieceBytes?: number
  window?: number
  /** Blocks a holder reads from its store ahead of the one it sends. */
  readAhead?: number
  maxInboundStreams?: number
}

export interface BlockChannelComponents {
  libp2p: Pick<Libp2p, 'peerId' | 'handle' | 'unhandle' | 'getConnections'>
  /** The local store only: a networked one would turn serving a block into fetching it. */
  blockstore: Pick<Blockstore, 'get'>
  getCodec: CodecLoader
  getHasher: HasherLoader
}

/** Bytes of a fetch received so far (`total` once the root block says how large the DAG is). */
export interface BlockProgressEvent {
  type: 'fedra:blocks:received'
  detail: { cid: string, from: string, received: number, total?: number }
}

export interface DagFetchOptions {
  signal?: AbortSignal
  onProgress?: (evt: BlockProgressEvent) => void
  maxBytes?: number
}

/** Verified blocks of one fetch by CID string (kept when a fetch fails, so the next try asks only for the rest). */
export type FetchedBlocks = Map<string, Uint8Array>

/**
 * `/fedra/blocks/1.0.0` (docs/protocol.md §7): fetch a CID's whole DAG from
 * the peers named as its holders (split among them when several are), and
 * serve the blocks this peer holds to room members. Both ends of the
 * protocol live in this one file (about 450 lines): they share its rules
 * on order, pieces and limits, and are read together.
 */
export class BlockChannel {
  private readonly pieceBytes: number
  private readonly window: number
  private readonly readAhead: number
  private readonly inbound = new Set<Stream>()

  constructor (private readonly components: BlockChannelComponents, private readonly init: BlockChannelInit) {
    this.pieceBytes = Math.min(MAX_PIECE_BYTES, Math.max(1024, init.pieceBytes ?? DEFAULT_PIECE_BYTES))
    this.window = Math.max(1, init.window ?? DEFAULT_WINDOW)
    this.readAhead = Math.max(1, init.readAhead ?? DEFAULT_READ_AHEAD)
  }

  async start (): Promise<void> {
    const max = this.init.maxInboundStreams ?? 16
    await this.components.libp2p.handle(BLOCKS_PROTOCOL, (stream, connection) => {
      this.serve(stream, connection).catch(err => { log('serving %s failed: %s', connection.remotePeer.toString(), (err as Error).message) })
    }, { maxInboundStreams: max, maxOutboundStreams: max })
  }

  async stop (): Promise<void> {
    await this.components.libp2p.unhandle(BLOCKS_PROTOCOL)
    for (const s of this.inbound) s.abort(new AbortedError('peer stopped'))
    this.inbound.clear()
  }

  // ---- holder side --------------------------------------------------------

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const remote = connection.remotePeer.toString()
    const lp = lpStream(stream, { maxDataLength: MAX_WANT_FRAME_BYTES, maxBufferSize: 4 * MAX_WANT_FRAME_BYTES })
    const send = async (msg: BlockReply): Promise<void> => { await lp.write(encodeBlockMessage(msg)) }
    if (!this.init.isMember(remote)) {
      // the rule that keeps a room's data in the room: a peer that has not
      // proved the room key (on the task stream) gets nothing
      log('refusing blocks to %s: not a proven room member', remote)
      await send({ v: 1, t: 'error', code: NotRoomMemberError.code, message: 'prove the room key first (task stream handshake)' }).catch(() => {})
      await stream.close().catch(() => { stream.abort(new NotRoomMemberError('not a room member')) })
      return
    }
    this.inbound.add(stream)
    const queue: string[] = []
    let ended = false
    let wake: (() => void) | undefined
    const notify = (): void => { const w = wake; wake = undefined; w?.() }
    const life = new AbortController()
    const reader = (async () => {
      try {
        while (!life.signal.aborted) {
          const msg = decodeBlockRequest((await lp.read({ signal: AbortSignal.any([life.signal, AbortSignal.timeout(HOLDER_IDLE_MS)]) })).subarray())
          if (queue.length + msg.cids.length > MAX_QUEUED_WANTS) throw new MessageTooLargeError(`more than ${MAX_QUEUED_WANTS} blocks asked for at once`)
          queue.push(...msg.cids)
          notify()
        }
      } catch (err) {
        if (err instanceof FedraError) await send({ v: 1, t: 'error', code: err.code, message: err.message }).catch(() => {})
      } finally {
        ended = true
        notify()
      }
    })()
    try {
      const reads: Array<{ cid: string, bytes: Promise<Uint8Array | undefined> }> = []
      while (true) {
        while (reads.length < this.readAhead && queue.length > 0) {
          const cid = queue.shift() as string
          const bytes = this.read(cid)
          bytes.catch(() => {})
          reads.push({ cid, bytes })
        }
        const next = reads.shift()
        if (next == null) {
          if (ended) break
          await new Promise<void>(resolve => { wake = resolve })
          continue
        }
        const block = await next.bytes
        if (block == null) {
          await send({ v: 1, t: 'missing', cid: next.cid })
          continue
        }
        // each piece's bytes go out as views of the block, never copied
        for (const piece of splitBlock(next.cid, block, this.pieceBytes)) await lp.write(new Uint8ArrayList(...encodeBlockPiece(piece)))
      }
      await stream.close().catch(() => {})
    } catch (err) {
      stream.abort(err as Error)
    } finally {
      life.abort()
      await reader
      this.inbound.delete(stream)
    }
  }

  /** A block of the local store, or undefined when it is not here (or not a CID, or too large to serve). */
  private async read (text: string): Promise<Uint8Array | undefined> {
    let cid: CID
    try {
      cid = CID.parse(text)
    } catch {
      return undefined
    }
    try {
      const block = await concat(this.components.blockstore.get(cid))
      return block.byteLength <= MAX_BLOCK_BYTES ? block : undefined
    } catch {
      return undefined
    }
  }

  // ---- fetcher side -------------------------------------------------------

  private pickConnection (peerId: string): Connection | undefined {
    let conns: Connection[]
    try {
      conns = this.components.libp2p.getConnections(peerIdFromString(peerId)).filter(c => c.status === 'open' && c.limits == null)
    } catch {
      return undefined
    }
    // of duplicate connections left by a stalled WebRTC dial, the one carrying streams is the live one
    conns.sort((a, b) => b.streams.length - a.streams.length)
    return conns[0]
  }

  /**
   * Fetches the DAG under `root` from `from` (one peer, or several that
   * each hold it), adding every block it checks to `got` (blocks already
   * there are not asked for again). With several providers the blocks are
   * split among them and fetched in parallel, each block from one provider
   * only (`BlockSplit`); a provider that fails hands its unanswered blocks
   * to the others. Throws when a block is left that no provider sent: the
   * last failure, a BlockError (missing or corrupt block, silence, broken
   * protocol) or the holder's refusal with its type (NotRoomMemberError).
   * Returns the file when the root is a flat file (its links all raw
   * leaves), put together as the leaves came in (`FileLayout`).
   */
  async fetch (root: CID, from: string | readonly string[], got: FetchedBlocks, options: DagFetchOptions = {}): Promise<{ file?: Uint8Array }> {
    const { signal } = options
    signal?.throwIfAborted()
    const providers = [...new Set(typeof from === 'string' ? [from] : from)]
    if (providers.length === 0) throw new BlockError(`no provider named for ${root}`)
    const run: DagRun = {
      root,
      rootKey: root.toString(),
      got,
      seen: new Set(),
      split: new BlockSplit(providers, this.window),
      received: 0,
      maxBytes: options.maxBytes ?? DEFAULT_MAX_FETCH_BYTES,
      options,
      waiters: new Set()
    }
    // what is still missing under blocks already fetched (from a provider tried before)
    const todo: string[] = []
    const plan = async (cid: CID): Promise<void> => {
      const key = cid.toString()
      if (run.seen.has(key)) return
      run.seen.add(key)
      const bytes = got.get(key)
      if (bytes == null) { todo.push(key); return }
      run.received += bytes.byteLength
      for (const child of await this.links(cid, bytes)) await plan(child)
    }
    await plan(root)
    const rootBytes = got.get(run.rootKey)
    if (rootBytes != null) run.file = fileLayout(await this.decode(root, rootBytes), run.maxBytes, got)
    run.split.add(todo)
    let last: Error | undefined
    await Promise.all(providers.map(async p => {
      try {
        await this.fetchPart(p, run)
      } catch (err) {
        last = err as Error
        log('fetching %s from %s failed: %s', root, p, last.message)
        run.split.fail(p)
        wake(run)
      }
    }))
    if (!run.split.settled) throw last ?? new BlockError(`no provider sent all of ${root}`)
    return { file: run.file?.complete }
  }

  /** One provider's part of a fetch: its own stream, opened once there is something to ask it for. */
  private async fetchPart (from: string, run: DagRun): Promise<void> {
    const { signal } = run.options
    let batch = run.split.take(from)
    while (batch.length === 0) {
      if (run.split.settled) return
      await changed(run)
      batch = run.split.take(from)
    }
    const conn = this.pickConnection(from)
    if (conn == null) throw new BlockError(`no direct connection to ${from} to fetch ${run.root} from`)
    const stream = await conn.newStream(BLOCKS_PROTOCOL, { signal: AbortSignal.any([AbortSignal.timeout(IDLE_TIMEOUT_MS), ...(signal != null ? [signal] : [])]), runOnLimitedConnection: false })
      .catch((err: Error) => { throw new BlockError(`could not open a block stream to ${from}: ${err.message}`, undefined, { cause: err }) })
    const lp = lpStream(stream, { maxDataLength: MAX_REPLY_FRAME_BYTES, maxBufferSize: this.window * MAX_BLOCK_BYTES + 2 * MAX_REPLY_FRAME_BYTES })
    try {
      await this.pull(lp, from, batch, run)
      // everything is in: the holder's side of the close need not be waited for
      void stream.close({ signal: AbortSignal.timeout(5000) }).catch(() => { stream.abort(new Error('close timed out')) })
    } catch (err) {
      stream.abort(err as Error)
      if (signal?.aborted === true) throw err
      if (err instanceof FedraError && err.code !== InvalidMessageError.code) throw err
      throw new BlockError(`fetching ${run.root} from ${from} failed: ${(err as Error).message}`, undefined, { cause: err })
    }
  }

  /**
   * Asks `from` for its share, a window at a time, until the whole DAG is
   * in (its share ends when others have the rest). Each checked block's
   * links join the split, so the providers share the leaves of a root that
   * one of them sent.
   */
  private async pull (lp: LengthPrefixedStream<Stream>, from: string, first: string[], run: DagRun): Promise<void> {
    const { signal, onProgress } = run.options
    const asm = new BlockAssembler()
    let scratch = new Uint8Array(0)
    /** The frame as one array: itself when it came in one piece, else copied into a buffer reused for every frame. */
    const contiguous = (frame: Uint8ArrayList): Uint8Array => {
      for (const buf of frame) {
        if (buf.byteLength === frame.byteLength) return buf
        break
      }
      if (scratch.byteLength < frame.byteLength) scratch = new Uint8Array(frame.byteLength)
      let off = 0
      for (const buf of frame) { scratch.set(buf, off); off += buf.byteLength }
      return scratch.subarray(0, off)
    }
    let batch = first
    while (true) {
      for (let i = 0; i < batch.length; i += MAX_WANT_CIDS) {
        const cids = batch.slice(i, i + MAX_WANT_CIDS)
        asm.want(cids)
        await lp.write(encodeBlockMessage({ v: 1, t: 'want', cids }), { signal })
      }
      if (asm.outstanding === 0) {
        // nothing asked of this provider: the others hold the rest, or will find more
        if (run.split.settled) return
        await changed(run)
        batch = run.split.take(from)
        continue
      }
      const frame = await lp.read({ signal: AbortSignal.any([AbortSignal.timeout(IDLE_TIMEOUT_MS), ...(signal != null ? [signal] : [])]) })
        .catch((err: Error) => {
          if (signal?.aborted === true) throw err
          throw new BlockError(err.name === 'TimeoutError' ? `${from} sent nothing for ${IDLE_TIMEOUT_MS} ms` : `block stream from ${from} ended: ${err.message}`)
        })
      // a piece's data is a view of `scratch`, copied into its block before the next read
      const msg = decodeBlockReplyView(contiguous(frame))
      if (msg.t === 'error') throw errorFromCode(msg.code, msg.message)
      const done = asm.accept(msg)
      if (msg.t === 'block') {
        run.received += msg.data.byteLength
        if (run.received > run.maxBytes) throw new BlockError(`${run.root} is larger than this fetch accepts (${run.maxBytes} bytes)`)
        onProgress?.({ type: 'fedra:blocks:received', detail: { cid: run.rootKey, from, received: run.received, total: run.total } })
      }
      batch = done != null ? await this.accept(done, from, run) : run.split.take(from)
    }
  }

  /** A whole block from `from`: checked, kept, its links added to the split. Returns what to ask `from` for next. */
  private async accept (done: { cid: string, bytes?: Uint8Array }, from: string, run: DagRun): Promise<string[]> {
    if (done.bytes == null) throw new BlockError(`${from} does not hold ${done.cid}`)
    const cid = CID.parse(done.cid)
    await this.verify(cid, done.bytes, from)
    run.got.set(done.cid, done.bytes)
    const found: string[] = []
    for (const child of await this.links(cid, done.bytes)) {
      const key = child.toString()
      if (run.seen.has(key)) continue
      run.seen.add(key)
      if (!run.got.has(key)) found.push(key)
    }
    if (done.cid === run.rootKey) {
      const value = await this.decode(cid, done.bytes)
      run.total = dagSize(done.bytes.byteLength, value)
      run.file = fileLayout(value, run.maxBytes, run.got)
    }
    run.file?.fill(done.cid, done.bytes)
    run.split.done(from, done.cid)
    run.split.add(found)
    // this provider takes its share first (it has the stream open), then the others are told
    const next = run.split.take(from)
    if (found.length > 0 || run.split.settled) wake(run)
    return next
  }

  /** The block's bytes must hash to its CID: a corrupt or forged block is a BlockError. */
  private async verify (cid: CID, bytes: Uint8Array, from: string): Promise<void> {
    let hasher
    try {
      hasher = await this.components.getHasher(cid.multihash.code)
    } catch {
      throw new BlockError(`${cid} uses hash 0x${cid.multihash.code.toString(16)}, which this peer cannot check`)
    }
    const digest = await hasher.digest(bytes)
    if (!equalBytes(digest.digest, cid.multihash.digest)) throw new BlockError(`block ${cid} from ${from} does not match its hash`)
  }

  private async decode (cid: CID, bytes: Uint8Array): Promise<unknown> {
    if (cid.code === raw.code) return undefined
    const codec = await this.components.getCodec(cid.code)
    return createUnsafe({ bytes, cid, codec }).value
  }

  /** The CIDs a block links to (none for raw blocks). */
  private async links (cid: CID, bytes: Uint8Array): Promise<CID[]> {
    if (cid.code === raw.code) return []
    let codec
    try {
      codec = await this.components.getCodec(cid.code)
    } catch {
      throw new BlockError(`${cid} uses codec 0x${cid.code.toString(16)}, which this peer cannot read`)
    }
    try {
      return [...createUnsafe({ bytes, cid, codec }).links()].map(([, c]) => CID.asCID(c) ?? CID.parse(c.toString()))
    } catch (err) {
      throw new BlockError(`block ${cid} does not decode: ${(err as Error).message}`)
    }
  }
}

/** One DAG fetch, shared by the providers asked at once. */
interface DagRun {
  root: CID
  rootKey: string
  got: FetchedBlocks
  /** CIDs already planned (asked for, or found in `got`). */
  seen: Set<string>
  split: BlockSplit
  received: number
  total?: number
  maxBytes: number
  options: DagFetchOptions
  /** The file being put together as its leaves are checked (a flat file: the root's links are all raw leaves). */
  file?: FileLayout
  /** Providers waiting for blocks to ask for, or for the end. */
  waiters: Set<() => void>
}

/** Resolves when the split changes (blocks found or handed back, or the fetch settled), or rejects when the fetch is cancelled. */
async function changed (run: DagRun): Promise<void> {
  const { signal } = run.options
  signal?.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => { run.waiters.delete(done); reject(signal?.reason) }
    const done = (): void => { signal?.removeEventListener('abort', onAbort); resolve() }
    run.waiters.add(done)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function wake (run: DagRun): void {
  const waiting = [...run.waiters]
  run.waiters.clear()
  for (const w of waiting) w()
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}

async function concat (source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let size = 0
  for await (const chunk of source) { parts.push(chunk); size += chunk.byteLength }
  if (parts.length === 1) return parts[0]
  const out = new Uint8Array(size)
  let off = 0
  for (const p of parts) { out.set(p, off); off += p.byteLength }
  return out
}

/** The service, js-libp2p style: `blockChannel(init)(components)`. */
export function blockChannel (init: BlockChannelInit): (components: BlockChannelComponents) => BlockChannel {
  return components => new BlockChannel(components, init)
}
