import { unixfs } from '@helia/unixfs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { BlockError } from '../core/errors.js'
import { MAX_BLOCK_BYTES } from '../core/protocol/blocks.js'
import type { Blockstore } from 'interface-blockstore'
import type { CodecLoader } from 'helia'

const DAG_PB = 0x70
/** UnixFS `Data.Type.File` (ipfs/specs, UNIXFS.md). */
const UNIXFS_FILE = 2

export interface ReadDagOptions {
  signal?: AbortSignal
  getCodec: CodecLoader
}

/**
 * The bytes of a fetched DAG, read from its blocks in memory (no store, no
 * network): a raw block as it is; a UnixFS file of dag-pb nodes over raw
 * leaves (what `FedraBlocks.put` and Helia's importer make) by joining its
 * leaves in link order, once; any other shape through @helia/unixfs's
 * `cat`. (A direct fetch of a flat file has the file already: the block
 * channel copies each leaf into place as it is checked.)
 */
export async function readDag (root: CID, got: ReadonlyMap<string, Uint8Array>, options: ReadDagOptions): Promise<Uint8Array> {
  const block = (cid: CID): Uint8Array => {
    const bytes = got.get(cid.toString())
    if (bytes == null) throw new BlockError(`${cid} was not fetched`)
    return bytes
  }
  if (root.code === raw.code) return block(root)
  const leaves = await plainFileLeaves(root, block, options.getCodec)
  if (leaves != null) return join(leaves)
  const store = {
    get: async function * (cid: CID): AsyncGenerator<Uint8Array> { yield block(cid) },
    has: async (cid: CID) => got.has(cid.toString()),
    put: async (cid: CID) => cid
  }
  const parts: Uint8Array[] = []
  for await (const part of unixfs({ blockstore: store as unknown as Pick<Blockstore, 'get' | 'put' | 'has'> }).cat(root, { signal: options.signal })) parts.push(part)
  return join(parts)
}

/** The raw leaves of a plain UnixFS file in order, or undefined for any other shape (inline data, other codecs, a size that does not add up). */
export async function plainFileLeaves (root: CID, block: (cid: CID) => Uint8Array, getCodec: CodecLoader): Promise<Uint8Array[] | undefined> {
  const codec = await getCodec(DAG_PB)
  const leaves: Uint8Array[] = []
  const walk = (cid: CID, depth: number): number | undefined => {
    const bytes = block(cid)
    if (cid.code === raw.code) { leaves.push(bytes); return bytes.byteLength }
    if (cid.code !== DAG_PB || depth > 32) return undefined
    const node = codec.decode(bytes) as { Data?: Uint8Array, Links: Array<{ Hash: CID }> }
    const data = node.Data == null ? undefined : fileData(node.Data)
    if (data == null) return undefined
    let size = 0
    for (const link of node.Links) {
      const n = walk(link.Hash, depth + 1)
      if (n == null) return undefined
      size += n
    }
    return data.fileSize == null || data.fileSize === size ? size : undefined
  }
  return walk(root, 0) == null ? undefined : leaves
}

/** The fields of a UnixFS `Data` message this reader relies on; undefined unless it is a file node with no inline bytes. */
function fileData (pb: Uint8Array): { fileSize?: number } | undefined {
  let type: number | undefined
  let fileSize: number | undefined
  let pos = 0
  const varint = (): number => {
    let value = 0
    let scale = 1
    for (let i = 0; i < 10; i++) {
      if (pos >= pb.byteLength) throw new RangeError('truncated varint')
      const b = pb[pos++]
      value += (b & 0x7f) * scale
      if ((b & 0x80) === 0) return value
      scale *= 128
    }
    throw new RangeError('varint too long')
  }
  try {
    while (pos < pb.byteLength) {
      const tag = varint()
      const field = Math.floor(tag / 8)
      switch (tag & 7) {
        case 0: {
          const v = varint()
          if (field === 1) type = v
          if (field === 3) fileSize = v
          break
        }
        case 1: pos += 8; break
        case 5: pos += 4; break
        case 2: {
          const len = varint()
          // inline file bytes: not a plain node of leaves
          if (field === 2 && len > 0) return undefined
          pos += len
          break
        }
        default: return undefined
      }
    }
  } catch {
    return undefined
  }
  if (pos !== pb.byteLength || type !== UNIXFS_FILE) return undefined
  return { fileSize }
}

function join (parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]
  let size = 0
  for (const p of parts) size += p.byteLength
  const out = new Uint8Array(size)
  let off = 0
  for (const p of parts) { out.set(p, off); off += p.byteLength }
  return out
}

/**
 * A flat file (a root whose links are all raw leaves, with their sizes, as
 * `FedraBlocks.put` makes it) put together while it is fetched: each leaf
 * is copied into its place as soon as it is checked, while the next ones
 * are still arriving, so the file is ready when its last leaf is, with no
 * copy of the whole file at the end (about 6 ms per MiB of fresh memory on
 * these VMs, docs/data-plane.md). The blocks stay separate: they are what
 * is stored, and the caller may do what it likes with the file.
 */
export class FileLayout {
  private readonly places = new Map<string, number[]>()
  private missing: number

  constructor (readonly bytes: Uint8Array, links: Array<{ cid: string, size: number }>) {
    let off = 0
    for (const l of links) {
      const at = this.places.get(l.cid) ?? []
      at.push(off)
      this.places.set(l.cid, at)
      off += l.size
    }
    this.missing = links.length
  }

  /** A checked block: copied into every place the file has for it. */
  fill (cid: string, block: Uint8Array): void {
    const at = this.places.get(cid)
    if (at == null) return
    this.places.delete(cid)
    for (const off of at) {
      if (off + block.byteLength > this.bytes.byteLength) return
      this.bytes.set(block, off)
      this.missing--
    }
  }

  /** The whole file, once every leaf is in place. */
  get complete (): Uint8Array | undefined {
    return this.missing === 0 ? this.bytes : undefined
  }
}

export function fileLayout (value: unknown, maxBytes: number, got: ReadonlyMap<string, Uint8Array>): FileLayout | undefined {
  const links = (value as { Links?: Array<{ Hash?: unknown, Tsize?: unknown }> } | undefined)?.Links
  if (!Array.isArray(links) || links.length < 2) return undefined
  const leaves: Array<{ cid: string, size: number }> = []
  let size = 0
  for (const l of links) {
    const cid = CID.asCID(l.Hash)
    if (cid == null || cid.code !== raw.code || typeof l.Tsize !== 'number' || !Number.isInteger(l.Tsize) || l.Tsize < 0 || l.Tsize > MAX_BLOCK_BYTES) return undefined
    leaves.push({ cid: cid.toString(), size: l.Tsize })
    size += l.Tsize
  }
  if (size > maxBytes) return undefined
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(size)
  } catch {
    return undefined
  }
  const file = new FileLayout(bytes, leaves)
  // leaves fetched before the root (from a provider tried earlier)
  for (const l of leaves) {
    const have = got.get(l.cid)
    if (have?.byteLength === l.size) file.fill(l.cid, have)
  }
  return file
}

/** A dag-pb node's size with everything under it (its links' Tsize), when it says. */
export function dagSize (rootBytes: number, value: unknown): number | undefined {
  const links = (value as { Links?: Array<{ Tsize?: number }> } | undefined)?.Links
  if (!Array.isArray(links)) return value === undefined ? rootBytes : undefined
  let size = rootBytes
  for (const l of links) {
    if (typeof l.Tsize !== 'number') return undefined
    size += l.Tsize
  }
  return size
}
