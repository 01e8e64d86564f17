import type { Libp2pOptions } from 'libp2p'

/**
 * libp2p's connection monitor, shared by peers and the relay. Its default
 * aborts a connection whose ping takes over 5 s; a volunteer on a slow CPU
 * whose worker threads are busy (a phone, a tab at 0.1 core in the
 * calibration bench) answers later than that, so it lost every connection
 * at once — the relay's included — and, that starved, its redials ran past
 * their timeout too: it left the room while it worked. Liveness for
 * scheduling is the room's heartbeats (src/core/registry: a silent worker's
 * tasks go elsewhere within seconds) and a closed tab closes its
 * connections; the monitor only has to catch connections that are really
 * dead, so it waits 60 s for an answer, and pings every 30 s (default
 * 10 s: a ping is a new stream, on WebRTC a new data channel, and an idle
 * tab holds a connection to every peer of its room and to the relay).
 */
export const CONNECTION_MONITOR: NonNullable<Libp2pOptions['connectionMonitor']> = {
  pingInterval: 30_000,
  pingTimeout: { minTimeout: 60_000, maxTimeout: 120_000 }
}
