import type { Blockstore, InputPair } from 'interface-blockstore'

/**
 * A block's own bytes. IndexedDB stores a value by structured clone, which
 * copies a typed array's whole backing buffer, not just its view: a 1 MiB
 * UnixFS leaf cut from a 12 MB input (or a block in a 4 MiB bitswap
 * message) stored 12 MB (4 MiB) per block. Measured in a tab with
 * blockstore-idb: 12 MB put took 8 s and 144 MB of quota, and 40 MB ran
 * out of quota (docs/data-plane.md).
 */
export function tight (bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()
}

/** A value to store as one tight Uint8Array (chunks joined). */
export async function tightValue (val: InputPair['bytes']): Promise<Uint8Array> {
  if (val instanceof Uint8Array) return tight(val)
  const parts: Uint8Array[] = []
  let size = 0
  for await (const p of val) { parts.push(p); size += p.byteLength }
  if (parts.length === 1) return tight(parts[0])
  const out = new Uint8Array(size)
  let off = 0
  for (const p of parts) { out.set(p, off); off += p.byteLength }
  return out
}

/** The same store, with every value put as its own bytes (see `tight`). */
export function tightBlockstore<T extends Blockstore> (store: T): T {
  return new Proxy(store, {
    get (target, prop) {
      if (prop === 'put') {
        return async (cid: InputPair['cid'], val: InputPair['bytes'], options?: unknown) => target.put(cid, await tightValue(val), options as never)
      }
      if (prop === 'putMany') {
        return (source: AsyncIterable<InputPair> | Iterable<InputPair>, options?: unknown) => target.putMany((async function * () {
          for await (const { cid, bytes } of source) yield { cid, bytes: await tightValue(bytes) }
        })(), options as never)
      }
      const value = Reflect.get(target, prop, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}
