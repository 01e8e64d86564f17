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
  heartbeatInterval: 500,
  // Many peers share one address (a classroom behind NAT; every tab in the
  // tests): the default colocation penalty starts at 10 peers per IP and
  // silently stopped the relay passing room heartbeats (relay-node.test.ts).
  scoreParams: { IPColocationFactorWeight: 0 }
}
