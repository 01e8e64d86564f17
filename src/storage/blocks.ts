import { withBitswap } from '@helia/bitswap'
import { createHeliaLight } from 'helia'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { unixfs } from '@helia/unixfs'
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { AbortedError, BlockError } from '../core/errors.js'
import { blockChannel } from '../net/block-channel.js'
import { memberGate } from './member-gate.js'
import { chooseProviders } from './providers.js'
import { DEFAULT_RECENT_BYTES, recentBlocks } from './recent-blocks.js'
import { readDag } from './read-dag.js'
import { tightBlockstore } from './tight-blockstore.js'
import type { MemberGate } from './member-gate.js'
import type { RecentBlocks } from './recent-blocks.js'
import type { BlockChannel, BlockProgressEvent, FetchedBlocks } from '../net/block-channel.js'
import type { FedraLibp2p } from '../net/libp2p.js'
import type { Blockstore } from 'interface-blockstore'
import type { Datastore } from 'interface-datastore'
import type { Helia } from 'helia'

const log = logger('fedra:storage:blocks')

/** Raw blocks up to this size; larger data is chunked as UnixFS (1 MiB leaves, Helia's default). */
const MAX_RAW_BLOCK = 1024 * 1024

export interface BlockStoreInit {
  node: FedraLibp2p
  blockstore: Blockstore
  datastore: Datastore
  /**
   * Peers allowed to fetch blocks, directly (`/fedra/blocks/1.0.0`) or over
   * bitswap, and that bitswap may tell what this peer wants: those that
   * proved the room key. Absent: nobody. Call `admit` when a peer becomes
   * one.
   */
  isMember?: (peerId: string) => boolean
  /** Block-protocol tuning (src/net/block-channel.ts defaults). */
  pieceBytes?: number
  window?: number
  readAhead?: number
  /** Bytes of recently put or read blocks kept in memory (src/storage/recent-blocks.ts); 0: none. */
  recentBytes?: number
}

export interface FetchOptions {
  signal?: AbortSignal
}

export interface GetOptions extends FetchOptions {
  /**
   * Peers that hold the data (a DataRef's `from`): asked directly, in this
   * order (src/storage/providers.ts), before bitswap asks the whole room.
   */
  providers?: readonly string[]
  /** Bytes received from a provider (direct fetches only). */
  onProgress?: (evt: BlockProgressEvent) => void
}

/**
 * Content-addressed data for the room: Helia built on our own libp2p node
 * with bitswap as its only block broker. Never the full createHelia: its defaults add
 * public bootstrap nodes, routing and HTTP gateways. Blocks fetched from
 * peers are hash-checked (by Helia, or by the block channel), so a corrupt
 * block is rejected.
 *
 * A fetch that names providers goes to them directly first
 * (`/fedra/blocks/1.0.0`, src/net/block-channel.ts): each block sent once,
 * by one of them, pipelined (split among them when several hold it), and
 * the bytes are returned as soon as they are checked; they reach the local
 * store in the background (docs/data-plane.md).
 *
 * Both ways of fetching serve room members only: bitswap runs on a view of
 * the node in which other peers do not exist (src/storage/member-gate.ts).
 */
export class FedraBlocks {
  readonly helia: Helia
  readonly channel: BlockChannel
  private readonly fs: ReturnType<typeof unixfs>
  /** Background writes of directly fetched blocks (awaited on stop). */
  private readonly persisting = new Set<Promise<void>>()

  private readonly blockstore: Blockstore
  /** The blocks put or read last, in memory: what a peer serves right after storing it. */
  readonly recent: RecentBlocks
  /** What bitswap sees of the node: room members only. */
  private readonly gate: MemberGate<FedraLibp2p>

  constructor (private readonly init: BlockStoreInit) {
    // blocks are stored as their own bytes, never as views of a larger buffer
    const store = recentBlocks(tightBlockstore(init.blockstore), init.recentBytes ?? DEFAULT_RECENT_BYTES)
    this.blockstore = store
    this.recent = store.recent
    const helia = createHeliaLight({ blockstore: this.blockstore, datastore: init.datastore })
    this.gate = memberGate(init.node, init.isMember ?? (() => false))
    Object.defineProperty(helia, 'libp2p', { value: this.gate.node, enumerable: true })
    withBitswap(helia as Parameters<typeof withBitswap>[0])
    this.helia = helia
    this.fs = unixfs(helia)
    this.channel = blockChannel({ isMember: init.isMember ?? (() => false), pieceBytes: init.pieceBytes, window: init.window, readAhead: init.readAhead })({
      libp2p: init.node,
      // the local store: serving must never turn into fetching
      blockstore: this.blockstore,
      getCodec: helia.getCodec,
      getHasher: helia.getHasher
    })
  }

  async start (): Promise<void> {
    await this.helia.start()
    await this.channel.start()
  }

  /** `peerId` proved the room key: bitswap may now exchange want-lists and blocks with it. */
  admit (peerId: string): void {
    this.gate.admit(peerId)
  }

  /** Bitswap streams refused because their peer had not proved the room key. */
  get refusedBitswap (): number {
    return this.gate.refused
  }

  async stop (): Promise<void> {
    this.gate.close()
    await this.channel.stop().catch(() => {})
    await Promise.all([...this.persisting])
    await this.helia.stop()
  }

  /** Stores bytes and returns their CID string. */
  async put (bytes: Uint8Array, options: FetchOptions = {}): Promise<string> {
    if (bytes.byteLength <= MAX_RAW_BLOCK) {
      const cid = CID.createV1(raw.code, await sha256.digest(bytes))
      await this.helia.blockstore.put(cid, bytes, options)
      return cid.toString()
    }
    const cid = await this.fs.addBytes(bytes, { ...options, rawLeaves: true, cidVersion: 1 })
    return cid.toString()
  }

  async has (cid: string): Promise<boolean> {
    return this.helia.blockstore.has(parseCid(cid))
  }

  /**
   * Fetches bytes by CID: from the local store, else directly from the
   * named providers in turn, else from room peers over bitswap.
   */
  async get (cid: string, options: GetOptions = {}): Promise<Uint8Array> {
    const c = parseCid(cid)
    try {
      if (options.providers != null && options.providers.length > 0 && !(await this.blockstore.has(c))) {
        const direct = await this.fetchDirect(c, options.providers, options)
        if (direct instanceof Uint8Array) return direct
      }
      // only the signal: Helia's own `providers` and progress options mean other things
      const source = c.code === raw.code ? this.helia.blockstore.get(c, { signal: options.signal }) : this.fs.cat(c, { signal: options.signal })
      const bytes = await concat(source)
      // a block kept in memory is not the caller's to change
      return this.recent.holds(bytes) ? bytes.slice() : bytes
    } catch (err) {
      // cancelled by the caller: say so; a deadline that ran out while the
      // block was looked for means nobody in the room has it
      const reason = options.signal?.reason as Error | undefined
      if (options.signal?.aborted === true && reason?.name !== 'TimeoutError') throw new AbortedError(`fetching ${cid} was cancelled`)
      if (options.signal?.aborted === true) throw new BlockError(`no peer in the room provided ${cid} in time`)
      throw new BlockError(`could not fetch ${cid}: ${(err as Error).message}`, undefined, { cause: err })
    }
  }

  /**
   * Fetches bytes by CID from the named providers only (no bitswap), split
   * among those reachable, each block from one. Throws the last provider's
   * error (BlockError, NotRoomMemberError), or BlockError when none is
   * reachable.
   */
  async fetchFrom (cid: string, providers: readonly string[], options: Omit<GetOptions, 'providers'> = {}): Promise<Uint8Array> {
    const r = await this.fetchDirect(parseCid(cid), providers, options)
    if (r instanceof Uint8Array) return r
    throw r
  }

  /** The bytes, or the error that ended the last try (blocks that did arrive are stored either way). */
  private async fetchDirect (root: CID, providers: readonly string[], options: Omit<GetOptions, 'providers'>): Promise<Uint8Array | Error> {
    const order = chooseProviders(providers, {
      self: this.init.node.peerId.toString(),
      isConnected: id => this.isConnected(id),
      isVerified: id => this.init.isMember?.(id) ?? false
    })
    if (order.length === 0) return new BlockError(`none of ${providers.length} named providers of ${root} is connected`)
    const got: FetchedBlocks = new Map()
    let file: Uint8Array | undefined
    try {
      ({ file } = await this.channel.fetch(root, order, got, options))
    } catch (err) {
      if (options.signal?.aborted === true) throw err
      log('direct fetch of %s from %s failed: %s', root, order.join(', '), (err as Error).message)
      // what did arrive is kept: bitswap asks the room only for the rest
      await this.persistNow(root, got)
      return err as Error
    }
    let bytes = file ?? await readDag(root, got, { signal: options.signal, getCodec: this.helia.getCodec })
    // the caller's bytes are never an array being stored (a raw block, a one-leaf file): those are copied
    for (const block of got.values()) if (block === bytes) { bytes = bytes.slice(); break }
    this.persist(root, got)
    return bytes
  }

  private isConnected (peerId: string): boolean {
    try {
      return this.init.node.getConnections(peerIdFromString(peerId)).some(c => c.status === 'open' && c.limits == null)
    } catch {
      return false
    }
  }

  /** Stores fetched blocks without holding up the caller; the root goes last, so `has(root)` means the whole DAG is here. */
  private persist (root: CID, got: FetchedBlocks): void {
    // on a later task: the first block's copy for the store is not made before the caller has the bytes
    const p = new Promise(resolve => setTimeout(resolve, 0))
      .then(async () => { await this.persistNow(root, got) })
      .catch(err => { log.error('storing fetched blocks of %s failed: %e', root, err) })
    this.persisting.add(p)
    void p.finally(() => this.persisting.delete(p))
  }

  private async persistNow (root: CID, got: FetchedBlocks): Promise<void> {
    const rootKey = root.toString()
    // a fetched block is this peer's own array (the caller got a copy or the
    // file): given as one chunk, the recent-blocks cache keeps it uncopied
    for (const [key, bytes] of got) {
      if (key !== rootKey) await this.helia.blockstore.put(CID.parse(key), [bytes])
    }
    const rootBytes = got.get(rootKey)
    if (rootBytes != null) await this.helia.blockstore.put(root, [rootBytes])
  }
}

export function parseCid (text: string): CID {
  const s = text.startsWith('fedra://') ? text.slice(8) : text
  try {
    return CID.parse(s)
  } catch {
    throw new BlockError(`"${text.slice(0, 80)}" is not a content id`)
  }
}

/** The CID a byte string has as a raw block: how modules are named. */
export async function rawCid (bytes: Uint8Array): Promise<string> {
  return CID.createV1(raw.code, await sha256.digest(bytes)).toString()
}

async function concat (source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let size = 0
  for await (const chunk of source) {
    parts.push(chunk)
    size += chunk.byteLength
  }
  if (parts.length === 1) return parts[0]
  const out = new Uint8Array(size)
  let off = 0
  for (const p of parts) { out.set(p, off); off += p.byteLength }
  return out
}
