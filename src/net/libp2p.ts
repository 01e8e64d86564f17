import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { webRTC } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { logger } from '@libp2p/logger'
import { PEER_GOSSIP } from './gossip.js'
import { CONNECTION_MONITOR } from './liveness.js'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'

const log = logger('fedra:net')

export type FedraServices = {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
}

export type FedraLibp2p = Libp2p<FedraServices>

export interface FedraNodeInit {
  /** Relay multiaddrs (with /p2p/<id>) to dial for introductions. */
  relays: string[]
  privateKey?: PrivateKey
  /**
   * ICE servers for WebRTC. Empty by default: @libp2p/webrtc otherwise falls
   * back to public STUN servers, and Fedra contacts nobody the user did not
   * configure. On a LAN or loopback host candidates are enough.
   */
  iceServers?: RTCIceServer[]
  /**
   * Addresses to listen on directly. Browsers cannot listen: they are
   * reached over WebRTC through a relay. Node peers (the board bridge, a fog
   * worker) listen on WebSockets, which browsers dial directly.
   */
  listen?: string[]
  /** Browsers: true. Node peers reach browsers through their WebSockets listener instead. */
  webrtc?: boolean
}

/**
 * A room peer's libp2p node: reachable through relays (`/p2p-circuit`) and
 * directly over WebRTC once introduced. The same code runs in browsers and in
 * Node (where @libp2p/webrtc brings node-datachannel).
 */
export async function createFedraNode (init: FedraNodeInit): Promise<FedraLibp2p> {
  const node = await createLibp2p({
    ...(init.privateKey != null ? { privateKey: init.privateKey } : {}),
    addresses: { listen: init.webrtc === false ? (init.listen ?? []) : ['/p2p-circuit', '/webrtc', ...(init.listen ?? [])] },
    transports: [
      webSockets(),
      ...(init.webrtc === false ? [] : [webRTC({ rtcConfiguration: { iceServers: init.iceServers ?? [] } })]),
      circuitRelayTransport()
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // The relay is on loopback or a LAN address: browsers deny those by default.
    connectionGater: { denyDialMultiaddr: () => false },
    connectionManager: { maxConnections: 256 },
    connectionMonitor: CONNECTION_MONITOR,
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({ ...PEER_GOSSIP, emitSelf: false })
    }
  })
  for (const addr of init.relays) {
    void dialRelay(node, addr)
  }
  return node
}

async function dialRelay (node: FedraLibp2p, addr: string): Promise<void> {
  for (let attempt = 0; attempt < 5 && node.status === 'started'; attempt++) {
    try {
      await node.dial(multiaddr(addr), { signal: AbortSignal.timeout(5000) })
      return
    } catch (err) {
      log('relay %s not reached: %s', addr, (err as Error).message)
      await new Promise(resolve => setTimeout(resolve, 500 * (attempt + 1)))
    }
  }
}

/** True for a connection that does not go through a relay. */
export function isDirect (conn: { limits?: unknown, direct?: boolean }): boolean {
  return conn.direct === true || conn.limits == null
}
