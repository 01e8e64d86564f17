/**
 * The functions repository's local side: module bytes by CID, kept while
 * used and dropped after a TTL unused (24 h by default) or when over budget,
 * least recently used first. The bytes also live in the block store, so an
 * evicted module can be fetched again by CID.
 */
export interface FunctionCacheInit {
  ttlMs?: number
  maxBytes?: number
  now?: () => number
}

interface Entry { bytes: Uint8Array, lastUsed: number }

export class FunctionCache {
  private readonly entries = new Map<string, Entry>()
  private readonly ttlMs: number
  private readonly maxBytes: number
  private readonly now: () => number
  private size = 0

  constructor (init: FunctionCacheInit = {}) {
    this.ttlMs = init.ttlMs ?? 24 * 3600_000
    this.maxBytes = init.maxBytes ?? 64 * 1024 * 1024
    this.now = init.now ?? (() => Date.now())
  }

  get (cid: string): Uint8Array | undefined {
    const e = this.entries.get(cid)
    if (e == null) return undefined
    e.lastUsed = this.now()
    // re-insert: Map order is our LRU order
    this.entries.delete(cid)
    this.entries.set(cid, e)
    return e.bytes
  }

  set (cid: string, bytes: Uint8Array): void {
    const old = this.entries.get(cid)
    if (old != null) this.size -= old.bytes.byteLength
    this.entries.delete(cid)
    this.entries.set(cid, { bytes, lastUsed: this.now() })
    this.size += bytes.byteLength
    this.evict()
  }

  /** Drops entries unused for longer than the TTL and trims to the budget. */
  evict (): string[] {
    const gone: string[] = []
    const cutoff = this.now() - this.ttlMs
    for (const [cid, e] of this.entries) {
      if (e.lastUsed < cutoff || this.size > this.maxBytes) {
        this.entries.delete(cid)
        this.size -= e.bytes.byteLength
        gone.push(cid)
      }
    }
    return gone
  }

  keys (): string[] {
    return [...this.entries.keys()].reverse()
  }
}
