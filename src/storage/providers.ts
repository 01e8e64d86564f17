/**
 * Which peers to ask directly for a CID, and which blocks each sends. Pure:
 * the caller says who is reachable and who proved the room key. The owner
 * of a job knows who holds what (it stored every input; a worker that
 * stored an output returned its CID), so hints are exact: a block is
 * fetched once, from one peer, never from every holder at once as
 * bitswap's want-block does; with several holders the blocks are split
 * among them (`BlockSplit`).
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

/**
 * How one DAG fetch splits its blocks among the providers it asks at once
 * (`BlockChannel.fetch` with several providers). Pure bookkeeping: each
 * block is given to one provider only, so the file moves once; blocks are
 * dealt as they become known (the root first, then its links once it is
 * checked), each provider taking at most its `window` and at most an even
 * share of what is left, so two holders of a 5-leaf file send 3 and 2
 * leaves, not 5 and 0; a faster provider frees its slots sooner and takes
 * more. A provider that fails hands its unanswered blocks back to the pool
 * for the others.
 */
export class BlockSplit {
  private readonly pool: string[] = []
  private readonly asked = new Map<string, Set<string>>()

  constructor (providers: readonly string[], private readonly window: number) {
    if (!Number.isInteger(window) || window < 1) throw new RangeError('window must be a positive integer')
    for (const p of providers) this.asked.set(p, new Set())
  }

  /** Blocks found to be needed (in the order they should be asked for). */
  add (cids: readonly string[]): void {
    this.pool.push(...cids)
  }

  /** The blocks to ask `provider` for now (none when it failed, is unknown, or has its share). */
  take (provider: string): string[] {
    const mine = this.asked.get(provider)
    if (mine == null || this.pool.length === 0) return []
    const share = Math.ceil((this.pool.length + this.inFlight) / this.active)
    const n = Math.min(this.window, share) - mine.size
    if (n <= 0) return []
    const cids = this.pool.splice(0, n)
    for (const c of cids) mine.add(c)
    return cids
  }

  /** `provider` delivered `cid` (checked). */
  done (provider: string, cid: string): void {
    this.asked.get(provider)?.delete(cid)
  }

  /** `provider` failed: what it was asked for and did not deliver goes back to the pool (first). Returns those blocks. */
  fail (provider: string): string[] {
    const mine = this.asked.get(provider)
    if (mine == null) return []
    this.asked.delete(provider)
    const back = [...mine]
    this.pool.unshift(...back)
    return back
  }

  /** Blocks `provider` was asked for and has not delivered. */
  pending (provider: string): number {
    return this.asked.get(provider)?.size ?? 0
  }

  /** Providers still in the fetch. */
  get active (): number {
    return this.asked.size
  }

  /** Blocks known and not yet given to any provider. */
  get waiting (): number {
    return this.pool.length
  }

  /** Nothing waiting and nothing asked for: every block known so far is in. */
  get settled (): boolean {
    return this.pool.length === 0 && this.inFlight === 0
  }

  private get inFlight (): number {
    let n = 0
    for (const s of this.asked.values()) n += s.size
    return n
  }
}
