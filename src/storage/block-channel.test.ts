import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { unixfs } from '@helia/unixfs'
import { MemoryBlockstore } from 'blockstore-core'
import { MemoryDatastore } from 'datastore-core'
import { createHeliaLight } from 'helia'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { blockChannel } from '../net/block-channel.js'
import type { BlockChannel, BlockProgressEvent, FetchedBlocks } from '../net/block-channel.js'
import type { Blockstore } from 'interface-blockstore'

/**
 * `/fedra/blocks/1.0.0` between two in-memory peers (libp2p's streamPair):
 * what a room member gets, what a stranger gets, what a broken holder does.
 */
type Handler = (stream: unknown, connection: unknown) => void

interface Peer { id: string, store: MemoryBlockstore, channel: BlockChannel, handler?: Handler }

const helia = createHeliaLight({ blockstore: new MemoryBlockstore(), datastore: new MemoryDatastore() })

async function peerId (): Promise<ReturnType<typeof peerIdFromPrivateKey>> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

/** A fetcher and holders that serve whoever their `isMember` admits; the fetcher has a direct connection to each. */
async function room (holders: Array<{ store: Pick<Blockstore, 'get'>, isMember?: (id: string) => boolean }>, init: { pieceBytes?: number, window?: number } = {}): Promise<{ fetcher: Peer, holders: Peer[] }> {
  const ids = await Promise.all([peerId(), ...holders.map(async () => peerId())])
  const peers: Record<string, Peer> = {}
  const make = (id: typeof ids[0], others: Array<typeof ids[0]>, store: Pick<Blockstore, 'get'>, isMember: (id: string) => boolean): Peer => {
    const peer: Peer = { id: id.toString(), store: new MemoryBlockstore(), channel: undefined as unknown as BlockChannel }
    peer.channel = blockChannel({ isMember, ...init })({
      libp2p: {
        peerId: id,
        handle: async (_p: string, h: Handler) => { peer.handler = h },
        unhandle: async () => {},
        getConnections: (remote?: typeof id) => {
          const other = others.find(o => remote?.equals(o) === true)
          return other == null
            ? []
            : [{
                status: 'open',
                limits: undefined,
                streams: [],
                newStream: async () => {
                  const [out, inb] = await streamPair()
                  peers[other.toString()].handler?.(inb, { remotePeer: id })
                  return out
                }
              }]
        }
      } as never,
      blockstore: store,
      getCodec: helia.getCodec,
      getHasher: helia.getHasher
    })
    return peer
  }
  const [fid, ...hids] = ids
  const fetcher = make(fid, hids, new MemoryBlockstore(), () => true)
  const made = holders.map((h, i) => make(hids[i], [fid], h.store, h.isMember ?? (() => true)))
  for (const p of [fetcher, ...made]) {
    peers[p.id] = p
    await p.channel.start()
  }
  return { fetcher, holders: made }
}

/** Two peers: `fetcher` dials `holder`; the holder serves whoever `isMember` admits. */
async function pair (isMember: (id: string) => boolean, holderStore: Pick<Blockstore, 'get'> = new MemoryBlockstore(), init: { pieceBytes?: number, window?: number } = {}): Promise<{ holder: Peer, fetcher: Peer }> {
  const { fetcher, holders } = await room([{ store: holderStore, isMember }], init)
  return { fetcher, holder: holders[0] }
}

/** A store that counts the bytes of the blocks read from it (what its holder sent). */
function counting (store: MemoryBlockstore): { store: Pick<Blockstore, 'get'>, sent: () => number, blocks: () => number } {
  let bytes = 0
  let blocks = 0
  return {
    store: {
      get: function * (cid: CID) {
        for (const chunk of store.get(cid) as Generator<Uint8Array>) { bytes += chunk.byteLength; blocks++; yield chunk }
      }
    } as unknown as Pick<Blockstore, 'get'>,
    sent: () => bytes,
    blocks: () => blocks
  }
}

const random = (n: number): Uint8Array => {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)))
  return b
}

/** Byte equality without vitest's element-wise diff (seconds per MiB). */
const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a != null && Buffer.compare(a, b) === 0

async function putRaw (store: MemoryBlockstore, bytes: Uint8Array): Promise<CID> {
  const cid = CID.createV1(raw.code, await sha256.digest(bytes))
  await store.put(cid, bytes)
  return cid
}

async function catFrom (root: CID, got: FetchedBlocks): Promise<Uint8Array> {
  const store = new MemoryBlockstore()
  for (const [k, v] of got) await store.put(CID.parse(k), v)
  const parts: Uint8Array[] = []
  for await (const c of unixfs({ blockstore: store }).cat(root)) parts.push(c)
  return new Uint8Array(await new Blob(parts as BlobPart[]).arrayBuffer())
}

describe('block channel', () => {
  it('a room member fetches a raw block, with progress', async () => {
    const store = new MemoryBlockstore()
    const { fetcher, holder } = await pair(() => true, store)
    const bytes = random(300_000)
    const cid = await putRaw(store, bytes)
    const got: FetchedBlocks = new Map()
    const events: BlockProgressEvent[] = []
    await fetcher.channel.fetch(cid, holder.id, got, { onProgress: e => events.push(e) })
    expect(same(got.get(cid.toString()), bytes)).toBe(true)
    // pieces of 256 KiB: two events, the last one the whole block
    expect(events.map(e => e.detail.received)).toEqual([262_144, 300_000])
    expect(events.every(e => e.type === 'fedra:blocks:received' && e.detail.from === holder.id)).toBe(true)
  })

  it('a room member fetches a whole UnixFS DAG, each block once, in small pieces and a small window', async () => {
    const store = new MemoryBlockstore()
    const { fetcher, holder } = await pair(() => true, store, { pieceBytes: 100_000, window: 2 })
    const bytes = random(3 * 1024 * 1024 + 12_345)
    const root = await unixfs({ blockstore: store }).addBytes(bytes)
    const got: FetchedBlocks = new Map()
    let last: BlockProgressEvent | undefined
    await fetcher.channel.fetch(root, holder.id, got, { onProgress: e => { last = e } })
    expect(got.size).toBe(5) // the root and four 1 MiB leaves
    expect(same(await catFrom(root, got), bytes)).toBe(true)
    expect(last?.detail.received).toBe(last?.detail.total)
  })

  it('a flat file is put together as its leaves come in, apart from the blocks kept for the store', async () => {
    const store = new MemoryBlockstore()
    const { fetcher, holder } = await pair(() => true, store)
    const bytes = random(3 * 1024 * 1024 + 100)
    const root = await unixfs({ blockstore: store }).addBytes(bytes, { rawLeaves: true, cidVersion: 1 })
    const got: FetchedBlocks = new Map()
    const { file } = await fetcher.channel.fetch(root, holder.id, got)
    expect(file != null && same(file, bytes)).toBe(true)
    for (const block of got.values()) expect(block.buffer).not.toBe(file?.buffer)
    // a raw block is not a file: the caller reads it from `got`
    const cid = await putRaw(store, random(1000))
    expect((await fetcher.channel.fetch(cid, holder.id, new Map())).file).toBeUndefined()
  })

  it('a peer that has not proved the room key gets nothing', async () => {
    const store = new MemoryBlockstore()
    const { fetcher, holder } = await pair(() => false, store)
    const cid = await putRaw(store, random(1000))
    const got: FetchedBlocks = new Map()
    const err = await fetcher.channel.fetch(cid, holder.id, got).catch((e: Error) => e)
    expect(err).toMatchObject({ name: 'NotRoomMemberError' })
    expect(got.size).toBe(0)
  })

  it('a block that does not match its CID is a BlockError and is not kept', async () => {
    const real = random(5000)
    const cid = CID.createV1(raw.code, await sha256.digest(real))
    const forged = random(5000)
    const lying = { get: async function * () { yield forged } } as unknown as Pick<Blockstore, 'get'>
    const { fetcher, holder } = await pair(() => true, lying)
    const got: FetchedBlocks = new Map()
    const err = await fetcher.channel.fetch(cid, holder.id, got).catch((e: Error) => e)
    expect(err).toMatchObject({ name: 'BlockError' })
    expect(got.size).toBe(0)
  })

  it('a holder without the block says so (BlockError); a later provider is asked only for what is missing', async () => {
    const full = new MemoryBlockstore()
    const bytes = random(2 * 1024 * 1024 + 10)
    const root = await unixfs({ blockstore: full }).addBytes(bytes)
    // a holder with the root and nothing else
    const partial = new MemoryBlockstore()
    await partial.put(root, (full.get(root) as Generator<Uint8Array>).next().value as Uint8Array)
    const first = await pair(() => true, partial)
    const got: FetchedBlocks = new Map()
    const err = await first.fetcher.channel.fetch(root, first.holder.id, got).catch((e: Error) => e)
    expect(err).toMatchObject({ name: 'BlockError' })
    expect([...got.keys()]).toEqual([root.toString()])
    const second = await pair(() => true, full)
    const events: BlockProgressEvent[] = []
    await second.fetcher.channel.fetch(root, second.holder.id, got, { onProgress: e => events.push(e) })
    expect(same(await catFrom(root, got), bytes)).toBe(true)
  })

  it('two holders split a DAG between them: each block sent once, both send, the file moves once', async () => {
    const full = new MemoryBlockstore()
    const bytes = random(6 * 1024 * 1024 + 99)
    const root = await unixfs({ blockstore: full }).addBytes(bytes, { rawLeaves: true, cidVersion: 1 })
    const a = counting(full)
    const b = counting(full)
    const { fetcher, holders } = await room([{ store: a.store }, { store: b.store }])
    const got: FetchedBlocks = new Map()
    const from = new Set<string>()
    await fetcher.channel.fetch(root, holders.map(h => h.id), got, { onProgress: e => from.add(e.detail.from) })
    expect(same(await catFrom(root, got), bytes)).toBe(true)
    // 7 leaves and the root: each read (and sent) by one holder only
    expect(a.blocks() + b.blocks()).toBe(got.size)
    expect(a.blocks()).toBeGreaterThan(1)
    expect(b.blocks()).toBeGreaterThan(1)
    expect(from).toEqual(new Set(holders.map(h => h.id)))
    const file = [...got.values()].reduce((n, v) => n + v.byteLength, 0)
    expect(a.sent() + b.sent()).toBe(file)
    expect(file).toBeLessThanOrEqual(1.1 * bytes.byteLength)
  })

  it('of two holders, one that lacks the leaves fails and the other sends them: still each block once', async () => {
    const full = new MemoryBlockstore()
    const bytes = random(4 * 1024 * 1024 + 5)
    const root = await unixfs({ blockstore: full }).addBytes(bytes, { rawLeaves: true, cidVersion: 1 })
    const partial = new MemoryBlockstore()
    await partial.put(root, (full.get(root) as Generator<Uint8Array>).next().value as Uint8Array)
    const good = counting(full)
    const poor = counting(partial)
    // the partial holder is named first, so it is asked for the root and a share of the leaves
    const { fetcher, holders } = await room([{ store: poor.store }, { store: good.store }])
    const got: FetchedBlocks = new Map()
    await fetcher.channel.fetch(root, holders.map(h => h.id), got)
    expect(same(await catFrom(root, got), bytes)).toBe(true)
    expect(poor.blocks() + good.blocks()).toBe(got.size)
  })

  it('of two holders, one that refuses (not a member) leaves the whole DAG to the other', async () => {
    const store = new MemoryBlockstore()
    const bytes = random(3 * 1024 * 1024)
    const root = await unixfs({ blockstore: store }).addBytes(bytes, { rawLeaves: true, cidVersion: 1 })
    const { fetcher, holders } = await room([{ store, isMember: () => false }, { store }])
    const got: FetchedBlocks = new Map()
    await fetcher.channel.fetch(root, holders.map(h => h.id), got)
    expect(same(await catFrom(root, got), bytes)).toBe(true)
  })

  it('when every holder fails, the last failure is thrown and the checked blocks are kept', async () => {
    const store = new MemoryBlockstore()
    const cid = await putRaw(store, random(1000))
    const { fetcher, holders } = await room([{ store, isMember: () => false }, { store, isMember: () => false }])
    const got: FetchedBlocks = new Map()
    await expect(fetcher.channel.fetch(cid, holders.map(h => h.id), got)).rejects.toMatchObject({ name: 'NotRoomMemberError' })
    expect(got.size).toBe(0)
  })

  it('no connection to the named provider is a BlockError at once', async () => {
    const { fetcher } = await pair(() => true)
    const cid = await putRaw(new MemoryBlockstore(), random(10))
    const stranger = (await peerId()).toString()
    await expect(fetcher.channel.fetch(cid, stranger, new Map())).rejects.toMatchObject({ name: 'BlockError' })
  })
})
