/**
 * Which peers to ask directly for a CID, in what order. Pure: the caller
 * says who is reachable and who proved the room key. The owner of a job
 * knows who holds what (it stored every input; a worker that stored an
 * output returned its CID), so hints are exact and one provider is enough:
 * a block is fetched once, from one peer, never from every holder at once
 * as bitswap's want-block does.
 */
export interface ProviderView {
  /** This peer: never a provider to itself (its own store is read first). */
  self: string
  /** A direct (not relay-limited) connection to the peer is open. */
  isConnected: (peerId: string) => boolean
  /** The peer proved the room key to us (it will have verified us the same way). */
  isVerified: (peerId: string) => boolean
}

/** Peers asked directly before falling back to bitswap. */
export const MAX_DIRECT_PROVIDERS = 3
const MAX_PEER_ID_LENGTH = 128

/**
 * Hinted peers that are connected, verified ones first, each in hint order,
 * without duplicates, at most `max`. A hinted peer that is not connected is
 * left to bitswap (no dial for one fetch); an unverified one is still tried
 * after the verified ones (it may verify us on its side and serve).
 */
export function chooseProviders (hints: readonly string[] | undefined, view: ProviderView, max = MAX_DIRECT_PROVIDERS): string[] {
  const seen = new Set<string>()
  const verified: string[] = []
  const others: string[] = []
  for (const id of hints ?? []) {
    if (typeof id !== 'string' || id === '' || id.length > MAX_PEER_ID_LENGTH || id === view.self || seen.has(id)) continue
    seen.add(id)
    if (!view.isConnected(id)) continue
    ;(view.isVerified(id) ? verified : others).push(id)
  }
  return [...verified, ...others].slice(0, Math.max(0, max))
}
