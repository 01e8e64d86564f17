import { unixfs } from '@helia/unixfs'
import * as raw from 'multiformats/codecs/raw'
import { BlockError } from '../core/errors.js'
import type { CID } from 'multiformats/cid'
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
 * `cat`. Leaves the block channel assembled in place are returned as the
 * buffer they are in, uncopied.
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

/**
 * The parts as one array. Parts that already lie one after the other over
 * the whole of one buffer (the block channel assembles a file's leaves in
 * place) are that buffer: no copy.
 */
function join (parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]
  let size = 0
  let adjacent = parts.length > 0 && parts[0].byteOffset === 0
  for (const p of parts) {
    adjacent &&= p.buffer === parts[0].buffer && p.byteOffset === size
    size += p.byteLength
  }
  if (adjacent && size === parts[0].buffer.byteLength) return new Uint8Array(parts[0].buffer, 0, size)
  const out = new Uint8Array(size)
  let off = 0
  for (const p of parts) { out.set(p, off); off += p.byteLength }
  return out
}
