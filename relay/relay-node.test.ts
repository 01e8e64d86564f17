import { afterEach, describe, expect, it } from 'vitest'
import { createFedraNode } from '../src/net/libp2p.js'
import { createRelayNode } from './relay-node.js'
import type { FedraLibp2p } from '../src/net/libp2p.js'
import type { RelayNode } from './relay-node.js'

/**
 * Real libp2p nodes on loopback (WebSockets to the relay, gossipsub through
 * it): a room larger than gossipsub's default colocation allowance (10 peers
 * per IP address) still hears every beat. Many browsers share an address in
 * practice (a classroom behind NAT); before scoring was adjusted the relay
 * silently stopped passing the room's messages.
 */
describe('relay gossip with many peers behind one address', () => {
  let relay: RelayNode | undefined
  let peers: FedraLibp2p[] = []

  afterEach(async () => {
    await Promise.all(peers.map(async p => p.stop()))
    peers = []
    await relay?.stop()
  })

  it('passes a room message to all of 14 peers on 127.0.0.1', async () => {
    relay = await createRelayNode({ host: '127.0.0.1', port: 0 })
    const addr = relay.getMultiaddrs()[0].toString()
    const topic = 'fedra/room/colocation-test'
    peers = await Promise.all(Array.from({ length: 14 }, async () => createFedraNode({ relays: [addr], webrtc: false })))
    const heard = new Set<number>()
    peers.forEach((p, i) => {
      p.services.pubsub.subscribe(topic)
      p.services.pubsub.addEventListener('message', evt => { if (evt.detail.topic === topic) heard.add(i) })
    })
    const deadline = Date.now() + 25_000
    // the first peer announces until everyone heard it (mesh formation takes a few heartbeats)
    while (heard.size < peers.length - 1 && Date.now() < deadline) {
      await peers[0].services.pubsub.publish(topic, new TextEncoder().encode('beat')).catch(() => {})
      await new Promise(resolve => setTimeout(resolve, 250))
    }
    expect([...heard].sort((a, b) => a - b)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1))
  }, 40_000)
})

describe('relay over TLS', () => {
  it('listens on WSS and announces /tls/ws addresses', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const { ensureCertificate } = await import('./certificate.js')
    const { relayListenAddr } = await import('./relay-node.js')
    expect(relayListenAddr({ host: '0.0.0.0', port: 1 })).toBe('/ip4/0.0.0.0/tcp/1/ws')
    expect(relayListenAddr({ host: '::', port: 1, tls: { cert: '', key: '' } })).toBe('/ip6/::/tcp/1/tls/ws')
    const dir = await mkdtemp(join(tmpdir(), 'fedra-relay-tls-'))
    const tls = await ensureCertificate(dir, { dns: ['localhost'], ips: ['127.0.0.1'] })
    const relay = await createRelayNode({ host: '127.0.0.1', port: 0, tls })
    try {
      const addrs = relay.getMultiaddrs().map(a => a.toString())
      expect(addrs.length).toBeGreaterThan(0)
      for (const a of addrs) expect(a).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/tls\/ws\/p2p\//)
    } finally {
      await relay.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
