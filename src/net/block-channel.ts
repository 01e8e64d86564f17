import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { createUnsafe } from 'multiformats/block'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { AbortedError, BlockError, FedraError, InvalidMessageError, MessageTooLargeError, NotRoomMemberError, errorFromCode } from '../core/errors.js'
import {
  BLOCKS_PROTOCOL, BlockAssembler, MAX_BLOCK_BYTES, MAX_PIECE_BYTES, MAX_REPLY_FRAME_BYTES, MAX_WANT_CIDS, MAX_WANT_FRAME_BYTES,
  decodeBlockReply, decodeBlockRequest, encodeBlockMessage, splitBlock
} from '../core/protocol/blocks.js'
import type { BlockReply } from '../core/protocol/blocks.js'
import type { CodecLoader, HasherLoader } from 'helia'
import type { Blockstore } from 'interface-blockstore'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'

const log = logger('fedra:net:blocks')

/**
 * Bytes of a block per frame. Measured between two tabs (docs/data-plane.md):
 * whole 1 MiB blocks per frame and 256 KiB pieces move 12 MB at the same
 * speed; pieces keep the receive buffer and progress steps small.
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
/** Blocks read from the store ahead of the one being sent. */
const READ_AHEAD = 2
/** Largest DAG one fetch takes (a hostile provider cannot grow a fetch without bound). */
const DEFAULT_MAX_FETCH_BYTES = 1024 * 1024 * 1024

export interface BlockChannelInit {
  /** Serve only peers for which this is true: those that proved the room key. */
  isMember: (peerId: string) => boolean
  pieceBytes?: number
  window?: number
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

/** Verified blocks of one fetch by CID string, kept across the providers tried in turn. */
export type FetchedBlocks = Map<string, Uint8Array>

/**
 * `/fedra/blocks/1.0.0` (docs/protocol.md §7): fetch a CID's whole DAG from
 * one named peer, and serve the blocks this peer holds to room members.
 */
export class BlockChannel {
  private readonly pieceBytes: number
  private readonly window: number
  private readonly inbound = new Set<Stream>()

  constructor (private readonly components: BlockChannelComponents, private readonly init: BlockChannelInit) {
    this.pieceBytes = Math.min(MAX_PIECE_BYTES, Math.max(1024, init.pieceBytes ?? DEFAULT_PIECE_BYTES))
    this.window = Math.max(1, init.window ?? DEFAULT_WINDOW)
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
        while (reads.length < READ_AHEAD && queue.length > 0) {
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
        for (const piece of splitBlock(next.cid, block, this.pieceBytes)) await send(piece)
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
   * Fetches the DAG under `root` from `from`, adding every block it checks
   * to `got` (blocks already there are not asked for again). Throws
   * BlockError when the provider lacks a block, sends a corrupt one, stalls
   * or breaks the protocol; the holder's refusal keeps its type
   * (NotRoomMemberError).
   */
  async fetch (root: CID, from: string, got: FetchedBlocks, options: DagFetchOptions = {}): Promise<void> {
    const { signal } = options
    signal?.throwIfAborted()
    const conn = this.pickConnection(from)
    if (conn == null) throw new BlockError(`no direct connection to ${from} to fetch ${root} from`)
    const stream = await conn.newStream(BLOCKS_PROTOCOL, { signal: AbortSignal.any([AbortSignal.timeout(IDLE_TIMEOUT_MS), ...(signal != null ? [signal] : [])]), runOnLimitedConnection: false })
      .catch((err: Error) => { throw new BlockError(`could not open a block stream to ${from}: ${err.message}`, undefined, { cause: err }) })
    const lp = lpStream(stream, { maxDataLength: MAX_REPLY_FRAME_BYTES, maxBufferSize: this.window * MAX_BLOCK_BYTES + 2 * MAX_REPLY_FRAME_BYTES })
    try {
      await this.pull(lp, root, from, got, options)
      // everything is in: the holder's side of the close need not be waited for
      void stream.close({ signal: AbortSignal.timeout(5000) }).catch(() => { stream.abort(new Error('close timed out')) })
    } catch (err) {
      stream.abort(err as Error)
      if (signal?.aborted === true) throw err
      if (err instanceof FedraError && err.code !== InvalidMessageError.code) throw err
      throw new BlockError(`fetching ${root} from ${from} failed: ${(err as Error).message}`, undefined, { cause: err })
    }
  }

  private async pull (lp: LengthPrefixedStream<Stream>, root: CID, from: string, got: FetchedBlocks, options: DagFetchOptions): Promise<void> {
    const { signal, onProgress } = options
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_FETCH_BYTES
    const rootKey = root.toString()
    const todo: CID[] = []
    const seen = new Set<string>()
    let received = 0
    let total: number | undefined
    // what is still missing under blocks already fetched (from a provider tried before)
    const plan = async (cid: CID): Promise<void> => {
      const key = cid.toString()
      if (seen.has(key)) return
      seen.add(key)
      const bytes = got.get(key)
      if (bytes == null) { todo.push(cid); return }
      received += bytes.byteLength
      for (const child of await this.links(cid, bytes)) await plan(child)
    }
    await plan(root)
    const asm = new BlockAssembler()
    while (true) {
      const room = this.window - asm.outstanding
      if (room > 0 && todo.length > 0) {
        const batch = todo.splice(0, Math.min(room, MAX_WANT_CIDS)).map(c => c.toString())
        asm.want(batch)
        await lp.write(encodeBlockMessage({ v: 1, t: 'want', cids: batch }), { signal })
      }
      if (asm.outstanding === 0) return
      const frame = await lp.read({ signal: AbortSignal.any([AbortSignal.timeout(IDLE_TIMEOUT_MS), ...(signal != null ? [signal] : [])]) })
        .catch((err: Error) => {
          if (signal?.aborted === true) throw err
          throw new BlockError(err.name === 'TimeoutError' ? `${from} sent nothing for ${IDLE_TIMEOUT_MS} ms` : `block stream from ${from} ended: ${err.message}`)
        })
      const msg = decodeBlockReply(frame.subarray())
      if (msg.t === 'error') throw errorFromCode(msg.code, msg.message)
      const done = asm.accept(msg)
      if (msg.t === 'block') {
        received += msg.data.byteLength
        if (received > maxBytes) throw new BlockError(`${root} is larger than this fetch accepts (${maxBytes} bytes)`)
        onProgress?.({ type: 'fedra:blocks:received', detail: { cid: rootKey, from, received, total } })
      }
      if (done == null) continue
      if (done.bytes == null) throw new BlockError(`${from} does not hold ${done.cid}`)
      const cid = CID.parse(done.cid)
      await this.verify(cid, done.bytes, from)
      got.set(done.cid, done.bytes)
      const links = await this.links(cid, done.bytes)
      if (done.cid === rootKey) total = dagSize(done.bytes.byteLength, await this.decode(cid, done.bytes))
      for (const child of links) {
        const key = child.toString()
        if (seen.has(key)) continue
        seen.add(key)
        if (got.has(key)) continue
        todo.push(child)
      }
    }
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

/** A dag-pb node's size with everything under it (its links' Tsize), when it says. */
function dagSize (rootBytes: number, value: unknown): number | undefined {
  const links = (value as { Links?: Array<{ Tsize?: number }> } | undefined)?.Links
  if (!Array.isArray(links)) return value === undefined ? rootBytes : undefined
  let size = rootBytes
  for (const l of links) {
    if (typeof l.Tsize !== 'number') return undefined
    size += l.Tsize
  }
  return size
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
