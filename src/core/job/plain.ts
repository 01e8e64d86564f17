import { InvalidMessageError } from '../errors.js'

/**
 * A value made only of what dag-cbor encodes: null, booleans, finite
 * numbers, strings, bytes, arrays and string-keyed maps.
 */
export type Plain = null | boolean | number | string | Uint8Array | Plain[] | { [key: string]: Plain }

/**
 * Turns a job's in-memory state into plain data, tagging what dag-cbor has
 * no type for: a Map becomes `{ $map: [[key, value], …] }`, a Set
 * `{ $set: […] }`, a non-finite number `{ $num: 'Infinity' }`; an
 * `undefined` property is left out, and `undefined` in an array becomes
 * null (the job's state holds no nulls of its own). Functions and class
 * instances other than Map, Set and Uint8Array are refused: state is data.
 */
export function toPlain (value: unknown): Plain {
  if (value === null || value === undefined) return null
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value
    case 'number':
      return Number.isFinite(value) ? value : { $num: String(value) }
    case 'object':
      break
    default:
      throw new InvalidMessageError(`a job's state cannot hold a ${typeof value}`)
  }
  if (value instanceof Uint8Array) return value
  if (Array.isArray(value)) return value.map(toPlain)
  if (value instanceof Map) return { $map: [...value].map(([k, v]) => [toPlain(k), toPlain(v)]) }
  if (value instanceof Set) return { $set: [...value].map(toPlain) }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) throw new InvalidMessageError(`a job's state cannot hold a ${(proto as { constructor?: { name?: string } }).constructor?.name ?? 'class instance'}`)
  const out: Record<string, Plain> = {}
  for (const [k, v] of Object.entries(value)) {
    if (v !== undefined) out[k] = toPlain(v)
  }
  return out
}

/** The inverse of `toPlain`. */
export function fromPlain (value: Plain): unknown {
  if (value === null) return undefined
  if (typeof value !== 'object' || value instanceof Uint8Array) return value
  if (Array.isArray(value)) return value.map(fromPlain)
  if ('$map' in value) return new Map((value.$map as Plain[][]).map(([k, v]) => [fromPlain(k), fromPlain(v)]))
  if ('$set' in value) return new Set((value.$set as Plain[]).map(fromPlain))
  if ('$num' in value) return Number(value.$num)
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = fromPlain(v)
  return out
}

/** Saves the named fields of an object (a class's own state: its private fields too). */
export function saveFields (o: object, fields: readonly string[]): Plain {
  const picked: Record<string, unknown> = {}
  for (const f of fields) picked[f] = (o as Record<string, unknown>)[f]
  return toPlain(picked)
}

/** Puts saved fields back into a fresh object of the same class. */
export function restoreFields<T extends object> (o: T, state: Plain): T {
  if (state == null || typeof state !== 'object' || Array.isArray(state) || state instanceof Uint8Array) throw new InvalidMessageError('a saved job state must be a map')
  Object.assign(o, fromPlain(state))
  return o
}
