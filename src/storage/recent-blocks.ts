import { base32 } from 'multiformats/bases/base32'
import { tightValue } from './tight-blockstore.js'
import type { Blockstore, InputPair } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'

/**
 * The blocks this peer stored or read last, kept in memory (bounded by
 * bytes, least recently used dropped first) in front of the real store.
 *
 * A room's data is read soon after it is written: the owner stores a task's
 * input and a worker fetches it at once; a worker stores an output and the
 * owner fetches it at once. From IndexedDB each 1 MiB block took 20–350 ms
 * to read while the tab was also sending (docs/data-plane.md, "Where the
 * time goes"), and a direct fetch waited on those reads; from here it takes
 * nothing. Writes still go to the store first: the cache only ever holds
 * what the store holds, as its own arrays (a caller's array is copied on
 * put; one read from here is handed on only as a copy, `holds`).
 */
export interface RecentBlocks {
  /** Bytes held now. */
  readonly bytes: number
  /** Forgets everything (the store keeps it all). */
  clear: () => void
  /** True for an array this cache holds: a reader that hands bytes to others copies it first. */
  holds: (bytes: Uint8Array) => boolean
}

/** 32 MiB: a 12 MB input or output and then some; a 40 MB one keeps its last 32 MiB. */
export const DEFAULT_RECENT_BYTES = 32 * 1024 * 1024

const key = (cid: CID): string => base32.encode(cid.multihash.bytes)

/** The same store with the blocks put or read last served from memory. */
export function recentBlocks<T extends Blockstore> (store: T, maxBytes = DEFAULT_RECENT_BYTES): T & { recent: RecentBlocks } {
  const held = new Map<string, Uint8Array>()
  const arrays = new WeakSet<Uint8Array>()
  let bytes = 0
  const forget = (k: string): void => {
    const b = held.get(k)
    if (b == null) return
    held.delete(k)
    arrays.delete(b)
    bytes -= b.byteLength
  }
  const remember = (cid: CID, block: Uint8Array): void => {
    if (block.byteLength > maxBytes) return
    const k = key(cid)
    forget(k)
    held.set(k, block)
    arrays.add(block)
    bytes += block.byteLength
    for (const [old] of held) {
      if (bytes <= maxBytes) break
      forget(old)
    }
  }
  const recent: RecentBlocks = {
    get bytes () { return bytes },
    clear: () => { for (const b of held.values()) arrays.delete(b); held.clear(); bytes = 0 },
    holds: (b: Uint8Array) => arrays.has(b)
  }
  return new Proxy(store, {
    get (target, prop) {
      switch (prop) {
        case 'recent': return recent
        case 'put': return async (cid: CID, val: InputPair['bytes'], options?: unknown) => {
          const block = await tightValue(val)
          const r = await target.put(cid, block, options as never)
          // the caller's own array may change after the put: keep a copy of it
          remember(cid, block === val ? block.slice() : block)
          return r
        }
        case 'putMany': return (source: AsyncIterable<InputPair> | Iterable<InputPair>, options?: unknown) => {
          const pending = new Map<string, Uint8Array>()
          return (async function * () {
            const stored = target.putMany((async function * () {
              for await (const { cid, bytes } of source) {
                const block = await tightValue(bytes)
                pending.set(key(cid), block === bytes ? block.slice() : block)
                yield { cid, bytes: block }
              }
            })(), options as never)
            for await (const cid of stored) {
              const block = pending.get(key(cid))
              pending.delete(key(cid))
              if (block != null) remember(cid, block)
              yield cid
            }
          })()
        }
        case 'get': return async function * (cid: CID, options?: unknown) {
          const k = key(cid)
          const hit = held.get(k)
          if (hit != null) {
            // most recently used goes last
            held.delete(k)
            held.set(k, hit)
            yield hit
            return
          }
          const block = await tightValue(target.get(cid, options as never))
          remember(cid, block)
          yield block
        }
        case 'has': return async (cid: CID, options?: unknown) => held.has(key(cid)) || await target.has(cid, options as never)
        case 'delete': return async (cid: CID, options?: unknown) => {
          forget(key(cid))
          await target.delete(cid, options as never)
        }
        case 'deleteMany': return (source: AsyncIterable<CID> | Iterable<CID>, options?: unknown) => target.deleteMany((async function * () {
          for await (const cid of source) { forget(key(cid)); yield cid }
        })(), options as never)
      }
      const value = Reflect.get(target, prop, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    }
  }) as T & { recent: RecentBlocks }
}
