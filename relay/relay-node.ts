import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { ROOM_GOSSIP } from '../src/net/gossip.js'
import { CONNECTION_MONITOR } from '../src/net/liveness.js'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Libp2p } from '@libp2p/interface'

const ROOM_TOPIC_PREFIX = 'fedra/room/'
/** A relay forwards sealed room messages for at most this many rooms. */
const MAX_ROOMS = 1024

export interface RelayInit {
  host: string
  port: number
  maxReservations?: number
  /** Listen on WSS (`/tls/ws`) with this PEM certificate (chain) and key, instead of WS. */
  tls?: { cert: string, key: string }
}

/** The relay's listen address: WS, or WSS when it has a certificate. */
export function relayListenAddr (init: Pick<RelayInit, 'host' | 'port' | 'tls'>): string {
  const ip = init.host.includes(':') ? 'ip6' : 'ip4'
  return `/${ip}/${init.host}/tcp/${init.port}/${init.tls != null ? 'tls/ws' : 'ws'}`
}

export type RelayNode = Libp2p<{ pubsub: GossipSub }>

/**
 * The relay introduces peers: WebSockets for browsers to reach it, circuit
 * relay v2 so they can exchange WebRTC offers, and gossipsub so room
 * announcements flow (gossipsub does not run over limited relayed links).
 * It joins every room topic a peer subscribes to, but holds no room key:
 * it forwards sealed messages it cannot read.
 */
export async function createRelayNode (init: RelayInit): Promise<RelayNode> {
  const node = await createLibp2p({
    addresses: { listen: [relayListenAddr(init)] },
    // browsers on an https:// page may only dial wss://
    transports: [webSockets(init.tls != null ? { https: { cert: init.tls.cert, key: init.tls.key } } : {})],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: 2048 },
    connectionMonitor: CONNECTION_MONITOR,
    services: {
      identify: identify(),
      ping: ping(),
      relay: circuitRelayServer({
        reservations: {
          maxReservations: init.maxReservations ?? 1024,
          // WebRTC signalling is small, but a slow room should not be cut off.
          defaultDurationLimit: 10 * 60_000,
          defaultDataLimit: BigInt(1 << 24)
        }
      }),
      pubsub: gossipsub(ROOM_GOSSIP)
    }
  })
  const pubsub = node.services.pubsub
  pubsub.addEventListener('subscription-change', (evt) => {
    for (const sub of evt.detail.subscriptions) {
      if (!sub.subscribe || !sub.topic.startsWith(ROOM_TOPIC_PREFIX)) continue
      if (pubsub.getTopics().includes(sub.topic)) continue
      if (pubsub.getTopics().length >= MAX_ROOMS) continue
      pubsub.subscribe(sub.topic)
    }
  })
  return node as unknown as RelayNode
}
