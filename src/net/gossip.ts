import type { GossipsubOpts } from '@libp2p/gossipsub'

/**
 * Gossipsub settings shared by peers and the relay, so the room's pubsub
 * behaves the same on both ends.
 */
export const ROOM_GOSSIP: Partial<GossipsubOpts> = {
  allowPublishToZeroTopicPeers: true,
  // Room messages are sealed with the room key; gossipsub's own signatures
  // still bind each message to its sender's peer id.
  globalSignaturePolicy: 'StrictSign',
  // An idle peer's CPU goes mostly on room chatter (~60 data-channel and
  // ~60 WebSocket messages a second each in a room of 7), and a volunteer
  // on a slow CPU that falls behind on it loses its connections (see
  // liveness.ts). Own beats are flood-published to every peer we reach, so
  // the mesh only carries them to peers not reached yet: a smaller mesh
  // (D 4, library default 6) forwards fewer duplicates, the library's 1 s
  // heartbeat (was 500 ms) halves mesh upkeep, and IDONTWANT (gossipsub
  // 1.2: one more message to every mesh peer per message received) only
  // pays off for large messages, which room beats are not (~330 bytes).
  heartbeatInterval: 1000,
  D: 4,
  Dlo: 3,
  Dhi: 6,
  Dlazy: 3,
  Dout: 1,
  idontwantMinDataSize: 1 << 30,
  // Many peers share one address (a classroom behind NAT; every tab in the
  // tests): the default colocation penalty starts at 10 peers per IP and
  // silently stopped the relay passing room heartbeats (relay-node.test.ts).
  scoreParams: { IPColocationFactorWeight: 0 }
}

/**
 * A peer's own settings: a mesh of 2. A peer floods its own beats to every
 * peer it reaches, so what its mesh forwards are duplicates for everyone
 * directly connected; the relay (ROOM_GOSSIP, mesh 4–6) still forwards
 * every beat to the peers that reach the room only through it (a newcomer
 * whose WebRTC links are not up yet). Halving the mesh took a room of 7's
 * data-channel sends per idle peer from ~58 to ~26 a second (with 2 s beats).
 */
export const PEER_GOSSIP: Partial<GossipsubOpts> = { ...ROOM_GOSSIP, D: 2, Dlo: 2, Dhi: 3, Dlazy: 2, Dout: 1 }
