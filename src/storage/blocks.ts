import { withBitswap } from '@helia/bitswap'
import { createHeliaLight } from 'helia'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { unixfs } from '@helia/unixfs'
import { AbortedError, BlockError } from '../core/errors.js'
import type { FedraLibp2p } from '../net/libp2p.js'
import type { Blockstore } from 'interface-blockstore'
import type { Datastore } from 'interface-datastore'
import type { Helia } from 'helia'

/** Raw blocks up to this size; larger data is chunked as UnixFS. */
const MAX_RAW_BLOCK = 1024 * 1024

export interface BlockStoreInit {
  node: FedraLibp2p
  blockstore: Blockstore
  datastore: Datastore
}

export interface FetchOptions {
  signal?: AbortSignal
}

/**
 * Content-addressed data for the room: Helia built on our own libp2p node
 * with bitswap as its only block broker. Never the full createHelia: its defaults add
 * public bootstrap nodes, routing and HTTP gateways. Blocks fetched from
 * peers are hash-checked by Helia, so a corrupt block is rejected.
 */
export class FedraBlocks {
  readonly helia: Helia
  private readonly fs: ReturnType<typeof unixfs>

  constructor (init: BlockStoreInit) {
    const helia = createHeliaLight({ blockstore: init.blockstore, datastore: init.datastore })
    Object.defineProperty(helia, 'libp2p', { value: init.node, enumerable: true })
    withBitswap(helia as Parameters<typeof withBitswap>[0])
    this.helia = helia
    this.fs = unixfs(helia)
  }

  async start (): Promise<void> {
    await this.helia.start()
  }

  async stop (): Promise<void> {
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

  /** Fetches bytes by CID: from the local store, else from room peers over bitswap. */
  async get (cid: string, options: FetchOptions = {}): Promise<Uint8Array> {
    const c = parseCid(cid)
    try {
      const source = c.code === raw.code ? this.helia.blockstore.get(c, options) : this.fs.cat(c, options)
      return await concat(source)
    } catch (err) {
      // cancelled by the caller: say so; a deadline that ran out while the
      // block was looked for means nobody in the room has it
      const reason = options.signal?.reason as Error | undefined
      if (options.signal?.aborted === true && reason?.name !== 'TimeoutError') throw new AbortedError(`fetching ${cid} was cancelled`)
      if (options.signal?.aborted === true) throw new BlockError(`no peer in the room provided ${cid} in time`)
      throw new BlockError(`could not fetch ${cid}: ${(err as Error).message}`, undefined, { cause: err })
    }
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
