/**
 * Filters people added to the room (their own `.wasm`, by CID): each peer
 * announces the ones it shares on its heartbeat, and every Edit screen
 * lists the room's. A shared filter that no job used for `ttlMs` (24 h by
 * default) stops being announced, as its module expires from the cache.
 */
export interface SharedFilter {
  cid: string
  /** What people see in the filter list. */
  title: string
  /** Its image entry point (ABI v1). */
  entry: string
}

export const MAX_SHARED_FILTERS = 16
export const SHARED_FILTER_TTL_MS = 24 * 3600_000

export class SharedFilterBook {
  private readonly entries = new Map<string, SharedFilter & { lastUsed: number }>()
  private readonly ttlMs: number
  private readonly now: () => number

  constructor (init: { ttlMs?: number, now?: () => number } = {}) {
    this.ttlMs = init.ttlMs ?? SHARED_FILTER_TTL_MS
    this.now = init.now ?? (() => Date.now())
  }

  /** Shares a filter (again: refreshes it); the oldest unused goes when over the limit. */
  add (f: SharedFilter): void {
    this.entries.delete(f.cid)
    this.entries.set(f.cid, { cid: f.cid, title: f.title.slice(0, 40), entry: f.entry, lastUsed: this.now() })
    while (this.entries.size > MAX_SHARED_FILTERS) {
      const oldest = [...this.entries.values()].sort((a, b) => a.lastUsed - b.lastUsed)[0]
      this.entries.delete(oldest.cid)
    }
  }

  /** A job ran the filter: it stays shared another `ttlMs`. */
  used (cid: string): void {
    const e = this.entries.get(cid)
    if (e != null) e.lastUsed = this.now()
  }

  /** The filters still shared, expired ones dropped. */
  list (): SharedFilter[] {
    const now = this.now()
    const out: SharedFilter[] = []
    for (const e of [...this.entries.values()]) {
      if (now - e.lastUsed > this.ttlMs) {
        this.entries.delete(e.cid)
        continue
      }
      out.push({ cid: e.cid, title: e.title, entry: e.entry })
    }
    return out
  }
}

/** The room's shared filters from every beat, each CID once (the first title seen). */
export function roomFilters (lists: ReadonlyArray<readonly SharedFilter[] | undefined>): SharedFilter[] {
  const seen = new Map<string, SharedFilter>()
  for (const list of lists) for (const f of list ?? []) if (!seen.has(f.cid)) seen.set(f.cid, f)
  return [...seen.values()]
}
