import { describe, expect, it } from 'vitest'
import { MemoryBlockstore } from 'blockstore-core'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { recentBlocks } from './recent-blocks.js'

/** The recently used blocks in memory in front of a store: bounded, write-through, never holding what the store lacks. */
async function block (n: number, fill: number): Promise<{ cid: CID, bytes: Uint8Array }> {
  const bytes = new Uint8Array(n).fill(fill)
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
}

async function read (store: { get: (cid: CID) => Iterable<Uint8Array> | AsyncIterable<Uint8Array> }, cid: CID): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const p of store.get(cid)) parts.push(p)
  return parts.length === 1 ? parts[0] : new Uint8Array(Buffer.concat(parts))
}

/** A store whose reads are counted. */
function countingStore (): MemoryBlockstore & { reads: number } {
  const store = new MemoryBlockstore() as MemoryBlockstore & { reads: number }
  store.reads = 0
  const get = store.get.bind(store)
  store.get = function * (cid: CID) { store.reads++; yield * (get(cid) as Generator<Uint8Array>) } as typeof store.get
  return store
}

describe('recentBlocks', () => {
  it('serves a block just put from memory, and the store holds it too', async () => {
    const inner = countingStore()
    const store = recentBlocks(inner, 1000)
    const b = await block(100, 1)
    await store.put(b.cid, b.bytes)
    expect(await read(store, b.cid)).toEqual(b.bytes)
    expect(inner.reads).toBe(0)
    expect(await inner.has(b.cid)).toBe(true)
    expect(store.recent.bytes).toBe(100)
  })

  it('keeps at most maxBytes, dropping the least recently used first', async () => {
    const inner = countingStore()
    const store = recentBlocks(inner, 250)
    const [x, y, z] = await Promise.all([block(100, 1), block(100, 2), block(100, 3)])
    await store.put(x.cid, x.bytes)
    await store.put(y.cid, y.bytes)
    await read(store, x.cid) // x is now the most recent
    await store.put(z.cid, z.bytes) // y goes
    expect(store.recent.bytes).toBe(200)
    await read(store, x.cid)
    await read(store, z.cid)
    expect(inner.reads).toBe(0)
    expect(await read(store, y.cid)).toEqual(y.bytes)
    expect(inner.reads).toBe(1)
  })

  it('keeps a block read from the store, and nothing larger than maxBytes', async () => {
    const inner = countingStore()
    const store = recentBlocks(inner, 150)
    const [small, big] = await Promise.all([block(100, 1), block(200, 2)])
    await inner.put(small.cid, small.bytes)
    await store.put(big.cid, big.bytes)
    expect(store.recent.bytes).toBe(0)
    await read(store, small.cid)
    await read(store, small.cid)
    expect(inner.reads).toBe(1)
  })

  it('stores a view as its own bytes', async () => {
    const store = recentBlocks(new MemoryBlockstore(), 1000)
    const whole = new Uint8Array(300).fill(7)
    const view = whole.subarray(100, 200)
    const b = { cid: CID.createV1(raw.code, await sha256.digest(view)), bytes: view }
    await store.put(b.cid, b.bytes)
    const got = await read(store, b.cid)
    expect(got.buffer.byteLength).toBe(100)
    expect(got).toEqual(view)
  })

  it('forgets deleted blocks and what clear() drops; a failed put is not remembered', async () => {
    const inner = countingStore()
    const store = recentBlocks(inner, 1000)
    const [x, y, z] = await Promise.all([block(10, 1), block(10, 2), block(10, 3)])
    await store.put(x.cid, x.bytes)
    await store.delete(x.cid)
    expect(await store.has(x.cid)).toBe(false)
    await store.put(y.cid, y.bytes)
    store.recent.clear()
    expect(store.recent.bytes).toBe(0)
    expect(await store.has(y.cid)).toBe(true)
    inner.put = async () => { throw new Error('disk full') }
    await expect(store.put(z.cid, z.bytes)).rejects.toThrow('disk full')
    expect(await store.has(z.cid)).toBe(false)
  })

  it("keeps its own copy of a caller's array, and says which arrays are its own", async () => {
    const store = recentBlocks(new MemoryBlockstore(), 1000)
    const b = await block(100, 5)
    const mine = b.bytes.slice()
    await store.put(b.cid, mine)
    mine.fill(0) // the caller reuses its buffer
    const served = await read(store, b.cid)
    expect(served).toEqual(b.bytes)
    expect(store.recent.holds(served)).toBe(true)
    expect(store.recent.holds(mine)).toBe(false)
  })

  it('putMany goes through and remembers what was stored', async () => {
    const inner = countingStore()
    const store = recentBlocks(inner, 1000)
    const blocks = await Promise.all([block(10, 1), block(20, 2)])
    const stored: CID[] = []
    for await (const cid of store.putMany(blocks)) stored.push(cid)
    expect(stored.map(c => c.toString())).toEqual(blocks.map(b => b.cid.toString()))
    expect(store.recent.bytes).toBe(30)
    for (const b of blocks) expect(await read(store, b.cid)).toEqual(b.bytes)
    expect(inner.reads).toBe(0)
  })
})
