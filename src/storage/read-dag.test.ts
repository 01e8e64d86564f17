import { describe, expect, it } from 'vitest'
import { unixfs } from '@helia/unixfs'
import { MemoryBlockstore } from 'blockstore-core'
import { MemoryDatastore } from 'datastore-core'
import { createHeliaLight } from 'helia'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { plainFileLeaves, readDag } from './read-dag.js'

/** A fetched DAG's bytes, read from its blocks in memory: the fast path for plain files and @helia/unixfs for the rest agree. */
const helia = createHeliaLight({ blockstore: new MemoryBlockstore(), datastore: new MemoryDatastore() })

const random = (n: number): Uint8Array => {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)))
  return b
}

/** A store that also keeps every block put, by CID string: what a fetch leaves in `got`. */
function recording (): { store: MemoryBlockstore, got: Map<string, Uint8Array> } {
  const store = new MemoryBlockstore()
  const got = new Map<string, Uint8Array>()
  const put = store.put.bind(store)
  store.put = ((cid: CID, bytes: Uint8Array) => { got.set(cid.toString(), bytes); return put(cid, bytes) }) as typeof store.put
  return { store, got }
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0

describe('readDag', () => {
  it('a raw block is its own bytes', async () => {
    const bytes = random(1000)
    const cid = CID.createV1(raw.code, await sha256.digest(bytes))
    expect(same(await readDag(cid, new Map([[cid.toString(), bytes]]), { getCodec: helia.getCodec }), bytes)).toBe(true)
  })

  const cases: Array<[string, number, Parameters<ReturnType<typeof unixfs>['addBytes']>[1], boolean]> = [
    ['a file of 1 MiB raw leaves (FedraBlocks.put)', 5 * 1024 * 1024 + 3, { rawLeaves: true, cidVersion: 1 }, true],
    // 4 KiB leaves, 8 links a node: a tree three levels deep
    ['a file of raw leaves under several levels of nodes', 100 * 4096 + 1, { rawLeaves: true, cidVersion: 1, chunker: fixedSize({ chunkSize: 4096 }), layout: balanced({ maxChildrenPerNode: 8 }) }, true],
    // leaves that are dag-pb nodes holding their bytes inline: left to @helia/unixfs
    ['a file of dag-pb leaves (not the fast path)', 3 * 262144 + 17, { rawLeaves: false, cidVersion: 0, chunker: fixedSize({ chunkSize: 262144 }) }, false]
  ]
  for (const [what, size, options, direct] of cases) {
    it(`${what}: the file's bytes`, async () => {
      const { store, got } = recording()
      const bytes = random(size)
      const root = await unixfs({ blockstore: store }).addBytes(bytes, options)
      expect(same(await readDag(root, got, { getCodec: helia.getCodec }), bytes)).toBe(true)
      const block = (cid: CID): Uint8Array => got.get(cid.toString()) as Uint8Array
      expect(await plainFileLeaves(root, block, helia.getCodec) != null).toBe(direct)
    })
  }

  it('a block that was not fetched is a BlockError', async () => {
    const { store, got } = recording()
    const root = await unixfs({ blockstore: store }).addBytes(random(2 * 1024 * 1024 + 1), { rawLeaves: true, cidVersion: 1 })
    for (const k of got.keys()) if (k !== root.toString()) { got.delete(k); break }
    await expect(readDag(root, got, { getCodec: helia.getCodec })).rejects.toMatchObject({ name: 'BlockError' })
  })
})
