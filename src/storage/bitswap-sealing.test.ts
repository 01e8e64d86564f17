import { afterEach, describe, expect, it } from 'vitest'
import { MemoryBlockstore } from 'blockstore-core'
import { MemoryDatastore } from 'datastore-core'
import { createFedraNode } from '../net/libp2p.js'
import { FedraBlocks } from './blocks.js'
import type { FedraLibp2p } from '../net/libp2p.js'

/**
 * Bitswap keeps a room's blocks in the room: real libp2p nodes in Node,
 * connected directly over WebSockets on loopback, each with its own
 * FedraBlocks (Helia + @helia/bitswap behind src/storage/member-gate.ts).
 * A stranger runs the same code but trusts everyone, as a hostile peer
 * would: it asks for the room's blocks by CID and must get nothing, while
 * a member gets them over the same kind of connection.
 */
interface TestPeer { node: FedraLibp2p, blocks: FedraBlocks, members: Set<string>, id: string }

let peers: TestPeer[] = []

async function peer (trustEveryone = false): Promise<TestPeer> {
  const node = await createFedraNode({ relays: [], webrtc: false, listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
  const members = new Set<string>()
  const blocks = new FedraBlocks({
    node,
    blockstore: new MemoryBlockstore(),
    datastore: new MemoryDatastore(),
    isMember: id => trustEveryone || members.has(id)
  })
  await blocks.start()
  const p = { node, blocks, members, id: node.peerId.toString() }
  peers.push(p)
  return p
}

/** What the task stream's handshake does on both ends (FedraPeer's `onVerified`). */
function verify (a: TestPeer, b: TestPeer): void {
  a.members.add(b.id); a.blocks.admit(b.id)
  b.members.add(a.id); b.blocks.admit(a.id)
}

async function connect (from: TestPeer, to: TestPeer): Promise<void> {
  await from.node.dial(to.node.getMultiaddrs()[0], { signal: AbortSignal.timeout(5000) })
}

const random = (n: number): Uint8Array => {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)))
  return b
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0

afterEach(async () => {
  await Promise.all(peers.map(async p => { await p.blocks.stop(); await p.node.stop() }))
  peers = []
})

describe('bitswap serves room members only', () => {
  it('a stranger connected to the holder gets nothing by CID; a member gets the same blocks', async () => {
    const [holder, member, stranger] = await Promise.all([peer(), peer(), peer(true)])
    verify(holder, member)
    await connect(member, holder)
    await connect(stranger, holder)
    const small = random(100_000)
    const large = random(3 * 1024 * 1024 + 7)
    const [smallCid, largeCid] = await Promise.all([holder.blocks.put(small), holder.blocks.put(large)])

    // the stranger's want-list reaches the holder, is held for the
    // handshake's moment (5 s), refused, and no block comes back
    const errs = await Promise.all([smallCid, largeCid].map(async cid => stranger.blocks.get(cid, { signal: AbortSignal.timeout(7000) }).catch((e: Error) => e)))
    for (const err of errs) expect(err).toMatchObject({ name: 'BlockError' })
    for (const cid of [smallCid, largeCid]) expect(await stranger.blocks.has(cid)).toBe(false)
    expect(holder.blocks.refusedBitswap).toBeGreaterThan(0)

    // a member, over bitswap alone (no provider named), gets both
    expect(same(await member.blocks.get(smallCid, { signal: AbortSignal.timeout(10_000) }), small)).toBe(true)
    expect(same(await member.blocks.get(largeCid, { signal: AbortSignal.timeout(10_000) }), large)).toBe(true)
  }, 40_000)

  it('a member does not send its want-list to a stranger', async () => {
    const [holder, member, stranger] = await Promise.all([peer(), peer(), peer(true)])
    verify(holder, member)
    await connect(member, holder)
    await connect(member, stranger)
    const bytes = random(50_000)
    const cid = await holder.blocks.put(bytes)
    expect(same(await member.blocks.get(cid, { signal: AbortSignal.timeout(10_000) }), bytes)).toBe(true)
    // a want-list the stranger's bitswap had received would sit in its ledger for the member
    const bitswap = (stranger.blocks.helia as unknown as { blockBrokers: Array<{ name: string, bitswap: { getPeerWantlist: (p: unknown) => unknown[] | undefined } }> })
      .blockBrokers.find(b => b.name === 'bitswap')?.bitswap
    expect(bitswap).toBeDefined()
    expect(bitswap?.getPeerWantlist(member.node.peerId) ?? []).toEqual([])
  }, 30_000)

  it('a want-list sent a moment before the holder has verified the fetcher is served once it has', async () => {
    const [holder, member] = await Promise.all([peer(), peer()])
    await connect(member, holder)
    const bytes = random(200_000)
    const cid = await holder.blocks.put(bytes)
    // the fetcher has verified the holder; the holder's end of the handshake completes 300 ms later
    member.members.add(holder.id); member.blocks.admit(holder.id)
    const got = member.blocks.get(cid, { signal: AbortSignal.timeout(10_000) })
    await new Promise(resolve => setTimeout(resolve, 300))
    holder.members.add(member.id); holder.blocks.admit(member.id)
    expect(same(await got, bytes)).toBe(true)
    expect(holder.blocks.refusedBitswap).toBe(0)
  }, 30_000)
})

describe('what a fetch returns is the caller’s own', () => {
  it('bytes changed by the caller after a fetch or a put change nothing stored or served', async () => {
    const [holder, member] = await Promise.all([peer(), peer()])
    verify(holder, member)
    await connect(member, holder)
    for (const n of [300_000, 3 * 1024 * 1024 + 1]) {
      const original = random(n)
      const mine = original.slice()
      const cid = await holder.blocks.put(mine)
      mine.fill(1) // the owner reuses its buffer
      const fetched = await member.blocks.fetchFrom(cid, [holder.id], { signal: AbortSignal.timeout(10_000) })
      expect(same(fetched, original)).toBe(true)
      fetched.fill(2) // the worker writes over its input
      for (let i = 0; i < 100 && !(await member.blocks.has(cid)); i++) await new Promise(resolve => setTimeout(resolve, 50))
      expect(same(await member.blocks.get(cid), original)).toBe(true)
      expect(same(await holder.blocks.get(cid), original)).toBe(true)
    }
  }, 30_000)
})
